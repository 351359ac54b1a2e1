using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using ImageGen.Core.Accounts;
using ImageGen.Core.Webhooks;

namespace ImageGen.Tests.Graph;

/// <summary>
/// The examples of <c>docs/api.md</c> ("Use it from your code") and <c>docs/webhooks.md</c>, as files in <c>examples/</c>
/// that the pages show word for word, run
/// against the graph: the .NET and JavaScript OpenAI SDK examples make an image, and both webhook receivers check the
/// signature of a real delivery (and turn away a forged one).
/// </summary>
public sealed class ExampleTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    private static readonly string Root = FindRoot();
    private static readonly string DotnetExample = Path.Combine(AppContext.BaseDirectory, "ImageGen.Examples.dll");
    private static readonly string JsExamples = Path.Combine(Root, "examples", "js");
    private static readonly SemaphoreSlim NpmGate = new(1, 1);

    public static TheoryData<string, string> ExampleFiles => new()
    {
        { "examples/dotnet/Generate.cs", "docs/api.md" },
        { "examples/dotnet/ReceiveWebhooks.cs", "docs/webhooks.md" },
        { "examples/js/generate.mjs", "docs/api.md" },
        { "examples/dotnet/Sticker.cs", "docs/api.md" },
        { "examples/js/sticker.mjs", "docs/api.md" },
        { "examples/js/receive-webhooks.mjs", "docs/webhooks.md" },
    };

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public async Task The_docs_show_each_example_as_it_is_run(string file, string page)
    {
        var readme = (await File.ReadAllTextAsync(Path.Combine(Root, page), Token)).ReplaceLineEndings("\n");
        var code = (await File.ReadAllTextAsync(Path.Combine(Root, file), Token)).ReplaceLineEndings("\n");
        Assert.Contains(code.TrimEnd(), readme, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dotnet_example_makes_an_image_with_the_openai_sdk()
    {
        var output = await RunToEndAsync("dotnet", [DotnetExample, "generate"], await ApiKeyEnvironmentAsync());
        Assert.Matches(@"lighthouse\.png: \d+ bytes", output.Text);
        AssertPng(output.Directory);
    }

    [Fact]
    public async Task The_javascript_example_makes_an_image_with_the_openai_sdk()
    {
        await EnsureNodeModulesAsync();
        var output = await RunToEndAsync("node", [Path.Combine(JsExamples, "generate.mjs")], await ApiKeyEnvironmentAsync());
        Assert.Matches(@"lighthouse\.png: \d+ bytes", output.Text);
        AssertPng(output.Directory);
    }

    [Fact]
    public async Task The_dotnet_sticker_passes_openai_options_and_gets_a_transparent_webp()
    {
        var output = await RunToEndAsync("dotnet", [DotnetExample, "sticker"], await ApiKeyEnvironmentAsync());
        Assert.Matches(@"sticker\.webp: \d+ bytes", output.Text);
        AssertTransparentWebp(output.Directory);
    }

    [Fact]
    public async Task The_javascript_sticker_passes_openai_options_and_gets_a_transparent_webp()
    {
        await EnsureNodeModulesAsync();
        var output = await RunToEndAsync("node", [Path.Combine(JsExamples, "sticker.mjs")], await ApiKeyEnvironmentAsync());
        Assert.Matches(@"sticker\.webp: \d+ bytes \(background: transparent\)", output.Text);
        AssertTransparentWebp(output.Directory);
    }

    /// <summary>A WebP whose corners are see-through: the background OpenAI's option asked for, as real alpha.</summary>
    private static void AssertTransparentWebp(string directory)
    {
        var bytes = File.ReadAllBytes(Path.Combine(directory, "sticker.webp"));
        Assert.Equal("image/webp", ImageGen.Rendering.ImageEncoding.Inspect(bytes)?.ContentType);
        using var bitmap = SkiaSharp.SKBitmap.Decode(bytes);
        Assert.Equal(0, bitmap.GetPixel(0, 0).Alpha);
        Assert.Equal(255, bitmap.GetPixel(bitmap.Width / 2, bitmap.Height / 2).Alpha);
    }

    [Fact]
    public async Task The_dotnet_receiver_checks_a_real_delivery_and_turns_away_a_forged_one() =>
        await ReceiverCheckAsync("dotnet", [DotnetExample, "receive"]);

    [Fact]
    public async Task The_javascript_receiver_checks_a_real_delivery_and_turns_away_a_forged_one()
    {
        await EnsureNodeModulesAsync();
        await ReceiverCheckAsync("node", [Path.Combine(JsExamples, "receive-webhooks.mjs")]);
    }

    private async Task ReceiverCheckAsync(string command, string[] arguments)
    {
        using var user = await graph.CreateUserAsync(Token);
        using var made = await user.Client.PostAsync("/api/webhooks/secret", null, Token);
        var secret = (await graph.ReadAsync<WebhookSecretDto>(made, Token)).Secret;
        var port = FreePort();
        using var receiver = Start(command, arguments, new() { ["IMAGEGEN_WEBHOOK_SECRET"] = secret, ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            Directory.CreateTempSubdirectory("imagegen-example-").FullName);
        var url = $"http://127.0.0.1:{port}/";
        await WaitForPortAsync(port, receiver);

        // A forged event (signed with another secret) is turned away.
        using var forged = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent("""{"type":"quest.succeeded","data":{"id":"forged"}}""") };
        forged.Headers.Add("webhook-id", "msg_forged");
        forged.Headers.Add("webhook-timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        forged.Headers.Add("webhook-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        using var http = new HttpClient();
        using (var answer = await http.SendAsync(forged, Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        }

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a paper crane", model = "local-sketch", width = 128, height = 128, webhook = url }, Token);
        var line = $"quest.succeeded {quest.Id} Succeeded";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        while (!receiver.Text.Contains(line, StringComparison.Ordinal))
        {
            Assert.False(receiver.Process.HasExited, $"the receiver exited: {receiver.Text}");
            await Task.Delay(100, deadline.Token);
        }

        Assert.DoesNotContain("forged", receiver.Text, StringComparison.Ordinal);
    }

    private async Task<Dictionary<string, string>> ApiKeyEnvironmentAsync()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "examples" }, Token);
        var key = (await graph.ReadAsync<CreatedApiKeyDto>(created, Token)).Key;
        return new() { ["IMAGEGEN_API_KEY"] = key, ["IMAGEGEN_BASE_URL"] = new Uri(graph.GatewayAddress, "/v1").ToString() };
    }

    private static void AssertPng(string directory)
    {
        var bytes = File.ReadAllBytes(Path.Combine(directory, "lighthouse.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
    }

    /// <summary>The JavaScript examples' packages, as a reader installs them (<c>npm ci</c>), once per run.</summary>
    private static async Task EnsureNodeModulesAsync()
    {
        await NpmGate.WaitAsync(Token);
        try
        {
            // Node.js and npm come with the machine here; on one without them, Debian's packages do.
            AppHost.Infrastructure.DebianPackages.Ensure("the JavaScript examples", ["nodejs", "npm"], () => OnPath("node") && OnPath("npm"));
            if (!Directory.Exists(Path.Combine(JsExamples, "node_modules", "openai")))
            {
                await RunToEndAsync("npm", ["ci", "--no-audit", "--no-fund", "--prefix", JsExamples], []);
            }
        }
        finally
        {
            NpmGate.Release();
        }
    }

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, command)));

    private static async Task<(string Text, string Directory)> RunToEndAsync(string command, string[] arguments, Dictionary<string, string> environment)
    {
        var directory = Directory.CreateTempSubdirectory("imagegen-example-").FullName;
        using var run = Start(command, arguments, environment, directory);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(RunTimeout);
        try
        {
            await run.Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!Token.IsCancellationRequested)
        {
            Assert.Fail($"{command} {string.Join(' ', arguments)} did not end within {RunTimeout.TotalSeconds:0} s: {run.Text}");
        }

        Assert.True(run.Process.ExitCode == 0, $"{command} {string.Join(' ', arguments)} exited with {run.Process.ExitCode}: {run.Text}");
        return (run.Text, directory);
    }

    private static Running Start(string command, string[] arguments, Dictionary<string, string> environment, string directory)
    {
        var start = new ProcessStartInfo(command) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var output = new System.Text.StringBuilder();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new Running(process, output);
    }

    private static async Task WaitForPortAsync(int port, Running receiver)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            Assert.False(receiver.Process.HasExited, $"the receiver exited: {receiver.Text}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100, deadline.Token);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ImageGen.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (ImageGen.sln) was not found above the test binaries.");
    }

    private sealed record Running(Process Process, System.Text.StringBuilder Output) : IDisposable
    {
        public string Text
        {
            get
            {
                lock (Output)
                {
                    return Output.ToString();
                }
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }
    }
}
