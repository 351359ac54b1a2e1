using ImageGen.AppHost.Infrastructure;

[assembly: AssemblyFixture(typeof(ImageGen.Tests.MachinePackages))]

namespace ImageGen.Tests;

/// <summary>
/// What the tests need from the machine, brought once before any test runs: Redis, PostgreSQL and fonts (as a local
/// run of the app needs them) and Debian's Chromium for the browser tests. `dotnet test` on a fresh machine is the whole
/// set-up when it runs as root; otherwise it fails at once with the one command to run.
/// </summary>
public sealed class MachinePackages : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly Lazy<Task> Ready = new(() => Task.Run(() => DebianPackages.Ensure("the tests", [.. DebianPackages.LocalMode, "chromium"],
        () => DebianPackages.LocalModeReady() && File.Exists(ChromiumPath))));

    /// <summary>Done once per run; what needs the packages (the shared graph, an assembly fixture too) awaits it.</summary>
    public static Task EnsureAsync() => Ready.Value;

    public ValueTask InitializeAsync() => new(EnsureAsync());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
