using System.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>
/// Where the graph keeps its state: the image store, and in local mode the Postgres cluster and Redis files.
/// A developer's F5 keeps one directory between runs; an ephemeral graph (tests, benchmarks) gets a fresh one that is
/// deleted when the AppHost stops, and leftovers of crashed runs are swept at the next start.
/// </summary>
public sealed class DataDirectory
{
    public const string EphemeralKey = "ImageGen:Ephemeral";
    public const string RootKey = "ImageGen:DataRoot";
    private const string OwnerFile = "owner.pid";

    private DataDirectory(string path, bool ephemeral)
    {
        Path = path;
        Ephemeral = ephemeral;
    }

    public string Path { get; }
    public bool Ephemeral { get; }

    public string Combine(string name)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public static DataDirectory Create(IConfiguration configuration)
    {
        var ephemeral = configuration.GetValue<bool>(EphemeralKey);
        var root = configuration[RootKey] ?? DefaultRoot();
        if (!ephemeral)
        {
            return new DataDirectory(EnsureTraversable(System.IO.Path.Combine(root, "dev")), ephemeral: false);
        }

        var runs = EnsureTraversable(System.IO.Path.Combine(root, "ephemeral"));
        SweepAbandoned(runs);
        var path = EnsureTraversable(System.IO.Path.Combine(runs, $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20]));
        File.WriteAllText(System.IO.Path.Combine(path, OwnerFile), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new DataDirectory(path, ephemeral: true);
    }

    /// <summary>Deletes an ephemeral directory; a persistent one stays.</summary>
    public void DeleteIfEphemeral()
    {
        if (Ephemeral)
        {
            TryDelete(Path);
        }
    }

    // Root's home is closed to other users, and Postgres runs as the postgres user: keep state where it can reach.
    private static string DefaultRoot() =>
        Environment.UserName == "root"
            ? "/var/tmp/imagegen"
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "imagegen");

    private static string EnsureTraversable(string path)
    {
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }

        return path;
    }

    private static void SweepAbandoned(string runs)
    {
        foreach (var run in Directory.EnumerateDirectories(runs))
        {
            var owner = System.IO.Path.Combine(run, OwnerFile);
            if (!File.Exists(owner) || !int.TryParse(File.ReadAllText(owner), out var pid) || !IsAlive(pid))
            {
                TryDelete(run);
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still in use (a process is stopping): the next start sweeps it.
        }
    }
}

/// <summary>Deletes an ephemeral data directory once the host and every resource it ran have stopped.</summary>
internal sealed class DataDirectoryCleanup(DataDirectory data, IHostApplicationLifetime lifetime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (data.Ephemeral)
        {
            lifetime.ApplicationStopped.Register(data.DeleteIfEphemeral);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
