using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Tests.Graph;
using ImageGen.Worker.Providers;
using Microsoft.Extensions.Options;

namespace ImageGen.Tests.Unit;

/// <summary>
/// A BFL answer cannot turn the worker against us: it cannot make it fetch another host (with or without the key),
/// follow a redirect, buffer an endless body, or decode a decompression bomb. A fake BFL on 127.0.0.1 answers as told;
/// a bystander on 127.0.0.2 counts every connection it gets (there must be none).
/// </summary>
public sealed class BflUrlGuardTests : IAsyncDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private readonly LoopbackHttpServer _bfl = new();

    // The worker's is a singleton: it outlives a call, as the watch of a job left running needs.
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly TcpListener _bystander = new(IPAddress.Parse("127.0.0.2"), 0);
    private int _bystanderConnections;

    public BflUrlGuardTests()
    {
        _bystander.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await _bystander.AcceptTcpClientAsync();
                Interlocked.Increment(ref _bystanderConnections);
            }
        });
    }

    private string Bystander => $"http://127.0.0.2:{((IPEndPoint)_bystander.LocalEndpoint).Port}";
    private string Bfl => _bfl.Address;

    [Fact]
    public async Task A_polling_url_on_another_host_is_not_followed_and_the_key_never_leaves()
    {
        Answer(submit: new { id = "job", polling_url = $"{Bystander}/v1/get_result?id=job", cost = 4 });
        var accepted = false;
        var e = await Assert.ThrowsAsync<ProviderException>(() => GenerateAsync(onAccepted: () => accepted = true));
        Assert.Contains("polling URL", e.Message, StringComparison.Ordinal);
        Assert.False(accepted, "a job whose polling URL is refused is not recorded as accepted");
        Assert.Equal(0, _bystanderConnections);
    }

    [Fact]
    public async Task A_sample_url_outside_the_delivery_hosts_is_not_fetched()
    {
        Answer(submit: new { id = "job", polling_url = $"{Bfl}/v1/get_result?id=job" },
            poll: new { id = "job", status = "Ready", result = new { sample = $"{Bystander}/internal/secrets.png" } });
        var e = await Assert.ThrowsAsync<ProviderException>(() => GenerateAsync());
        Assert.Contains("sample URL", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, _bystanderConnections);
    }

    [Fact]
    public async Task A_redirect_is_refused_not_followed()
    {
        Answer(submit: new { id = "job", polling_url = $"{Bfl}/v1/get_result?id=job" }, redirectPollTo: $"{Bystander}/v1/get_result?id=job");
        var e = await Assert.ThrowsAsync<ProviderException>(() => GenerateAsync());
        Assert.Contains("redirect", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, _bystanderConnections);
    }

    [Fact]
    public async Task A_sample_larger_than_the_cap_is_refused_before_it_is_buffered()
    {
        Answer(submit: new { id = "job", polling_url = $"{Bfl}/v1/get_result?id=job" },
            poll: new { id = "job", status = "Ready", result = new { sample = $"{Bfl}/sample.png" } }, sample: new byte[64 * 1024]);
        var e = await Assert.ThrowsAsync<ProviderException>(() => GenerateAsync(maxResponseBytes: 16 * 1024));
        Assert.Contains("more than 16,384 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_decompression_bomb_is_refused_from_its_header()
    {
        // A few dozen bytes that claim 60000 x 60000 pixels (3.6 billion): decoding them would need 14 GB.
        Answer(submit: new { id = "job", polling_url = $"{Bfl}/v1/get_result?id=job" },
            poll: new { id = "job", status = "Ready", result = new { sample = $"{Bfl}/sample.png" } }, sample: PngHeader(60_000, 60_000));
        var e = await Assert.ThrowsAsync<ProviderException>(() => GenerateAsync());
        Assert.Contains("60000x60000", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://api.bfl.ai/v1/get_result?id=1", true, true)]
    [InlineData("https://api.eu.bfl.ai/v1/get_result?id=1", true, true)]
    [InlineData("https://delivery-eu1.bfl.ai/results/a.png", true, false)]
    [InlineData("https://evilbfl.ai/x", false, false)]
    [InlineData("https://bfl.ai.attacker.example/x", false, false)]
    [InlineData("http://api.bfl.ai/v1/get_result?id=1", false, false)]
    [InlineData("https://user:pass@api.bfl.ai/v1/get_result", false, false)]
    [InlineData("http://169.254.169.254/latest/meta-data", false, false)]
    [InlineData("http://127.0.0.1:1/v1/get_result?id=1", false, false)]
    public void Urls_are_fetched_and_given_the_key_only_where_bfl_lives(string url, bool fetch, bool key)
    {
        var policy = new BflUrlPolicy(new BflAccountOptions { Endpoint = new Uri("https://api.bfl.ai") });
        Assert.Equal(fetch, policy.Parse(url, policy.MayFetch) is not null);
        Assert.Equal(key, policy.Parse(url, u => policy.MayFetch(u) && policy.MaySendKey(u)) is not null);
    }

    [Fact]
    public void The_configured_endpoints_own_origin_is_allowed_even_over_http_as_the_simulator_is()
    {
        var policy = new BflUrlPolicy(new BflAccountOptions { Endpoint = new Uri("http://127.0.0.1:5123") });
        Assert.True(policy.MaySendKey(new Uri("http://127.0.0.1:5123/v1/get_result?id=1")));
        Assert.False(policy.MayFetch(new Uri("http://127.0.0.1:5124/v1/get_result?id=1")));
    }

    [Fact]
    public async Task A_preview_on_bfls_hosts_or_inline_becomes_a_frame_and_one_elsewhere_is_not_fetched()
    {
        var png = SmallPng();
        foreach (var (preview, expected) in new[]
        {
            ($"{Bfl}/preview.png", 1),
            ("data:image/png;base64," + Convert.ToBase64String(png), 1),
            ($"{Bystander}/internal/preview.png", 0),
            ("not base64 at all!", 0),
        })
        {
            Answer(submit: new { id = "job", polling_url = $"{Bfl}/v1/get_result?id=job" },
                poll: new { id = "job", status = "Ready", result = new { sample = $"{Bfl}/sample.png" } }, sample: png,
                firstPoll: new { id = "job", status = "Pending", progress = 0.5, preview }, previewImage: png);
            var frames = new List<byte[]>();
            await GenerateAsync(onPreview: frames.Add);
            Assert.True(frames.Count == expected, $"{preview}: {frames.Count} frames");
            Assert.All(frames, f => Assert.Equal("image/webp", ImageGen.Rendering.ImageEncoding.Inspect(f)?.ContentType));
        }

        Assert.Equal(0, _bystanderConnections);
    }

    [Fact]
    public async Task A_job_stopped_here_is_watched_until_BFL_ends_it_and_no_longer()
    {
        // BFL has no cancel: the job runs on after ours, and counts against the account's active tasks until it ends.
        int polls = 0, keyless = 0;
        var finished = false;
        _bfl.Answer = async context =>
        {
            var response = context.Response;
            if (context.Request.Url!.AbsolutePath.StartsWith("/v1/flux", StringComparison.Ordinal))
            {
                await LoopbackHttpServer.WriteJsonAsync(response, new { id = "job", polling_url = $"{Bfl}/v1/get_result?id=job", cost = 4 });
                return;
            }

            if (context.Request.Headers["x-key"] != "bfl-secret-key")
            {
                Interlocked.Increment(ref keyless);
            }

            Interlocked.Increment(ref polls);
            await LoopbackHttpServer.WriteJsonAsync(response, Volatile.Read(ref finished)
                ? new { id = "job", status = "Ready", result = new { sample = $"{Bfl}/sample.png" } }
                : (object)new { id = "job", status = "Pending", progress = 0.4 });
        };
        using var stop = new CancellationTokenSource();
        var left = await Assert.ThrowsAsync<ProviderJobLeftRunning>(() => GenerateAsync(onAccepted: stop.Cancel, stop: stop));

        // Still running there: the watch goes on asking, and has not ended.
        var seen = Volatile.Read(ref polls);
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref polls) >= seen + 3), TimeSpan.FromSeconds(10));
        Assert.False(left.Ended.IsCompleted);

        Volatile.Write(ref finished, true);
        await left.Ended.WaitAsync(TimeSpan.FromSeconds(10), Token);
        var last = Volatile.Read(ref polls);
        await Task.Delay(200, Token);
        Assert.Equal(last, Volatile.Read(ref polls));
        Assert.Equal(0, keyless);
        Assert.Equal(0, _bystanderConnections);
    }

    [Fact]
    public async Task A_job_BFL_never_ends_is_watched_no_longer_than_the_bound()
    {
        Answer(submit: new { id = "job", polling_url = $"{Bfl}/v1/get_result?id=job" }, poll: new { id = "job", status = "Pending" });
        using var stop = new CancellationTokenSource();
        var left = await Assert.ThrowsAsync<ProviderJobLeftRunning>(() => GenerateAsync(onAccepted: stop.Cancel, stop: stop,
            leftRunningWatch: TimeSpan.FromMilliseconds(300)));
        await left.Ended.WaitAsync(TimeSpan.FromSeconds(10), Token);
    }

    [Fact]
    public async Task The_watch_does_not_follow_a_redirect_and_gives_the_slot_back()
    {
        Answer(submit: new { id = "job", polling_url = $"{Bfl}/v1/get_result?id=job" }, redirectPollTo: $"{Bystander}/v1/get_result?id=job");
        using var stop = new CancellationTokenSource();
        var left = await Assert.ThrowsAsync<ProviderJobLeftRunning>(() => GenerateAsync(onAccepted: stop.Cancel, stop: stop));
        await left.Ended.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.Equal(0, _bystanderConnections);
    }

    private static byte[] SmallPng()
    {
        using var bitmap = new SkiaSharp.SKBitmap(32, 32);
        bitmap.Erase(SkiaSharp.SKColors.Orange);
        return bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray();
    }

    private async Task GenerateAsync(long maxResponseBytes = 64L << 20, Action? onAccepted = null, Action<byte[]>? onPreview = null,
        CancellationTokenSource? stop = null, TimeSpan? leftRunningWatch = null)
    {
        var options = new ProviderOptions
        {
            Bfl = new BflAccountOptions { Endpoint = new Uri(Bfl), ApiKey = "bfl-secret-key" },
            PollMinInterval = TimeSpan.FromMilliseconds(10),
            PollMaxInterval = TimeSpan.FromMilliseconds(20),
            MaxResponseBytes = maxResponseBytes,
            LeftRunningWatch = leftRunningWatch ?? TimeSpan.FromSeconds(30),
        };
        var provider = new BflImageProvider(_http, Options.Create(options));
        Assert.True(ModelCatalog.Default.TryGet("flux-pro-1.1", out var model));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token, stop?.Token ?? default);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        await provider.GenerateAsync(new ProviderRequest
        {
            QuestId = Guid.NewGuid(),
            Prompt = "a lighthouse",
            Model = model!,
            Parameters = new QuestParameters { Width = 256, Height = 256, SafetyTolerance = 2, OutputFormat = "png" },
            OnJobAccepted = (_, _, _, _) =>
            {
                onAccepted?.Invoke();
                return Task.CompletedTask;
            },
            OnPreview = frame => onPreview?.Invoke(frame),
        }, timeout.Token);
    }

    private void Answer(object submit, object? poll = null, string? redirectPollTo = null, byte[]? sample = null, object? firstPoll = null, byte[]? previewImage = null)
    {
        var polls = 0;
        _bfl.Answer = async context =>
        {
            var path = context.Request.Url!.AbsolutePath;
            await context.Request.InputStream.CopyToAsync(Stream.Null);
            var response = context.Response;
            if (path.StartsWith("/v1/flux", StringComparison.Ordinal))
            {
                await LoopbackHttpServer.WriteJsonAsync(response, submit);
            }
            else if (path == "/v1/get_result" && redirectPollTo is not null)
            {
                response.StatusCode = 302;
                response.RedirectLocation = redirectPollTo;
                response.Close();
            }
            else if (path == "/v1/get_result" && poll is not null)
            {
                await LoopbackHttpServer.WriteJsonAsync(response, Interlocked.Increment(ref polls) == 1 && firstPoll is not null ? firstPoll : poll);
            }
            else if (path == "/preview.png" && previewImage is not null)
            {
                response.ContentType = "image/png";
                await response.OutputStream.WriteAsync(previewImage);
                response.Close();
            }
            else if (path == "/sample.png" && sample is not null)
            {
                response.ContentType = "image/png";
                response.ContentLength64 = sample.Length;
                await response.OutputStream.WriteAsync(sample);
                response.Close();
            }
            else
            {
                response.StatusCode = 404;
                response.Close();
            }
        };
    }

    /// <summary>A PNG signature and header chunk claiming the given size, then an empty data chunk and the end.</summary>
    private static byte[] PngHeader(int width, int height)
    {
        var png = new List<byte>([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 6; // RGBA
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return [.. png];
    }

    private static void Chunk(List<byte> png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.AddRange(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.AddRange(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.AddRange(crc);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    public ValueTask DisposeAsync()
    {
        _bfl.Dispose();
        _bystander.Stop();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
