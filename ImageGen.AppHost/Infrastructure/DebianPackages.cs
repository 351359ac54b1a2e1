namespace ImageGen.AppHost.Infrastructure;

/// <summary>
/// The Debian packages a local run needs, installed on first use: a newcomer's first <c>dotnet run</c> (or
/// <c>dotnet test</c>) brings Redis, PostgreSQL, Chromium and fonts itself when it runs as root, saying so in one line,
/// and otherwise stops with the one command to run. Installs take a machine-wide lock, so two at once wait in turn.
/// </summary>
public static class DebianPackages
{
    /// <summary>Redis and PostgreSQL for local mode, and the fonts the local renderer draws text with.</summary>
    public static readonly string[] LocalMode = ["redis-server", "postgresql", "libfontconfig1", "fonts-dejavu-core"];

    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(15);

    /// <summary>Installs <paramref name="packages"/> unless <paramref name="present"/> already holds; throws when it cannot.</summary>
    public static void Ensure(string purpose, IReadOnlyCollection<string> packages, Func<bool> present)
    {
        if (present())
        {
            return;
        }

        var list = string.Join(' ', packages);
        if (!LocalProcesses.IsRoot || !File.Exists("/usr/bin/apt-get"))
        {
            throw new InfrastructureException($"ImageGen ({purpose}) needs Debian packages that are not installed. Install them with: sudo apt-get install -y {list}");
        }

        Console.Error.WriteLine($"ImageGen: installing {list} (Debian packages) for {purpose}; this happens once.");
        LocalProcesses.Run("flock", ["-w", ((int)InstallTimeout.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture), "/var/lock/imagegen-apt.lock",
            "sh", "-c", $"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {list}"], InstallTimeout);
        if (!present())
        {
            throw new InfrastructureException($"Installing {list} finished, but {purpose} still lacks them.");
        }
    }

    /// <summary>True when local mode has what it needs: redis-server, PostgreSQL's server, and fonts.</summary>
    public static bool LocalModeReady() =>
        LocalRedisExtensions.FindServer() is not null
        && LocalPostgresExtensions.FindBinDirectory() is not null
        && Directory.Exists("/usr/share/fonts/truetype/dejavu");
}
