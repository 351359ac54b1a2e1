using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>Small helpers for running infrastructure binaries as local processes.</summary>
internal static class LocalProcesses
{
    public const string InstallHint = "Install them with: sudo apt-get install -y redis-server postgresql libfontconfig1 fonts-dejavu-core  (or start Docker and use containers)";

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>A TCP port free on loopback right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first of <paramref name="candidates"/> that exists, or null.</summary>
    public static string? FindExecutable(IEnumerable<string> candidates) => candidates.FirstOrDefault(File.Exists);

    /// <summary>Candidates for a program on PATH.</summary>
    public static IEnumerable<string> OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program));

    /// <summary>Runs a command to completion; throws with its output when it fails.</summary>
    public static void Run(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info) ?? throw new InfrastructureException($"Could not start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InfrastructureException($"{fileName} did not finish within {timeout.TotalSeconds:0} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InfrastructureException($"{fileName} {string.Join(' ', info.ArgumentList)} failed ({process.ExitCode}): {error.Result}{output.Result}");
        }
    }
}
