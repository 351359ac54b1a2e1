using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>Small helpers for running infrastructure binaries as local processes.</summary>
internal static class LocalProcesses
{
    public const string InstallHint = "Install them with: sudo apt-get install -y redis-server postgresql libfontconfig1 fonts-dejavu-core  (or start Docker and use containers)";

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// A TCP port free on loopback right now, below the range the system hands out to outgoing connections. A port from
    /// that range (what binding port 0 gives) can become any process's next connection's own port before the server we
    /// start binds it, and the server then fails ("port is taken"; seen once with Redis while services connected).
    /// </summary>
    public static int FreePort()
    {
        var (first, _) = OutgoingPortRange();
        var low = Math.Max(1024, first - 12_000);
        for (var tries = 0; tries < 50 && low < first; tries++)
        {
            var port = Random.Shared.Next(low, first);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Someone listens there: try another.
            }
        }

        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }

    /// <summary>The ports outgoing connections take their own port from (Linux's setting; IANA's range elsewhere).</summary>
    public static (int First, int Last) OutgoingPortRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], out var first) && int.TryParse(parts[1], out var last) && first <= last)
            {
                return (first, last);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return (49152, 65535);
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
