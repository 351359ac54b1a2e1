using System.Diagnostics;

namespace ImageGen.Tests.Start;

/// <summary>
/// The example overlay as a cluster would receive it: rendered with kustomize (kubectl's, 5.x), then checked offline by
/// deploy/kubernetes/check against the Kubernetes 1.30 schemas and KEDA's CRD (kubernetes-models' validators) and, for
/// field names at any depth, against the same versions' TypeScript types compiled strictly. A field the schemas do not
/// know fails it, as a planted one shows.
/// </summary>
public sealed partial class DeploymentTests
{
    private static readonly SemaphoreSlim NpmGate = new(1, 1);
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task The_rendered_overlay_holds_to_the_kubernetes_and_keda_schemas_and_a_planted_unknown_field_fails_it()
    {
        var root = FindRoot();
        var (rendered, renderer) = await RenderAsync(System.IO.Path.Combine(root, "deploy", "kubernetes", "overlays", "example"));
        Assert.StartsWith("kubectl", renderer, StringComparison.Ordinal);
        Assert.Contains("kind: Namespace", rendered, StringComparison.Ordinal);
        var check = await EnsurePackagesAsync(System.IO.Path.Combine(root, "deploy", "kubernetes", "check"));

        var (code, output) = await RunAsync("node", [System.IO.Path.Combine(check, "check.mjs")], rendered);
        Assert.True(code == 0, $"rendered with {renderer}:\n{output}");
        Assert.Contains("ok ScaledObject worker", output, StringComparison.Ordinal);
        Assert.Contains("ok field names", output, StringComparison.Ordinal);

        var planted = rendered.Replace("kind: Deployment\nmetadata:\n", "kind: Deployment\nbogusField: 1\nmetadata:\n", StringComparison.Ordinal);
        Assert.NotEqual(rendered, planted);
        (code, output) = await RunAsync("node", [System.IO.Path.Combine(check, "check.mjs")], planted);
        Assert.Equal(1, code);
        Assert.Contains("'\"bogusField\"' does not exist in type 'Deployment'", output, StringComparison.Ordinal);
    }

    /// <summary>The overlay rendered by kubectl's kustomize (Debian's kubectl 1.20 is too old for <c>labels:</c>; this machine's is 1.32).</summary>
    private static async Task<(string Yaml, string Renderer)> RenderAsync(string overlay)
    {
        var (_, version) = await RunAsync("kubectl", ["version", "--client"], null);
        var (code, yaml) = await RunAsync("kubectl", ["kustomize", overlay], null);
        Assert.True(code == 0, yaml);
        return (yaml, "kubectl " + string.Join(", ", version.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
    }

    /// <summary>
    /// The checker with its packages, as its lock file pins them: installed once per machine under ~/.cache/imagegen (as
    /// the local object store's are), in a directory named by the lock file's hash, the script copied beside them.
    /// </summary>
    private static async Task<string> EnsurePackagesAsync(string source)
    {
        var lockFile = File.ReadAllBytes(System.IO.Path.Combine(source, "package-lock.json"));
        var directory = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "imagegen",
            "manifest-check-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(lockFile))[..12]);
        await NpmGate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            Directory.CreateDirectory(directory);
            foreach (var file in new[] { "package.json", "package-lock.json", "check.mjs" })
            {
                File.Copy(System.IO.Path.Combine(source, file), System.IO.Path.Combine(directory, file), overwrite: true);
            }

            if (!File.Exists(System.IO.Path.Combine(directory, "node_modules", ".bin", "tsc")))
            {
                var (code, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", directory], null);
                Assert.True(code == 0, output);
            }
        }
        finally
        {
            NpmGate.Release();
        }

        return directory;
    }

    private static async Task<(int Code, string Output)> RunAsync(string command, string[] arguments, string? input)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(StepTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
