using System.Globalization;
using System.Security.Cryptography;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>A <c>postgres</c> server process (run as the postgres OS user when the AppHost runs as root).</summary>
public sealed class LocalPostgresServerResource(string name, string command, string workingDirectory, int port, string password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public int Port { get; } = port;
    internal string Password { get; } = password;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Password={Password}");
}

/// <summary>A database on a <see cref="LocalPostgresServerResource"/>. The migration step creates it if it is missing.</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;
    public LocalPostgresServerResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent.ConnectionStringExpression};Database={DatabaseName}");
}

internal static class LocalPostgresExtensions
{
    private const string OsUser = "postgres";

    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(this IDistributedApplicationBuilder builder, string name, DataDirectory data)
    {
        var binDir = FindBinDirectory()
            ?? throw new InfrastructureException($"Local mode needs the PostgreSQL server (postgres, initdb), which is not installed. {LocalProcesses.InstallHint}");

        var root = data.Combine("postgres");
        var cluster = Path.Combine(root, "data");
        var password = EnsureCluster(binDir, root, cluster);
        var port = LocalProcesses.FreePort();

        string[] postgres = [Path.Combine(binDir, "postgres"), "-D", cluster, "-p", port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={cluster}", "-c", "max_connections=300",
            // Statement statistics for operators and the benchmark (SELECT * FROM pg_stat_statements after CREATE EXTENSION).
            "-c", "shared_preload_libraries=pg_stat_statements"];
        // A throw-away cluster (tests) trades durability for speed unless ImageGen:Postgres:Durable says otherwise (the
        // benchmark, by default); a developer's cluster keeps every commit.
        var durable = builder.Configuration.GetValue<bool?>("ImageGen:Postgres:Durable") ?? !data.Ephemeral;
        string[] speed = durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"];
        // Postgres writes every line it logs to stderr (its start, checkpoints, a client's refused statement), which the
        // dashboard and the test output showed as errors. Each line names its own severity (LOG, ERROR, FATAL), so the
        // server's stderr joins its stdout; exec keeps the server the process that is watched and stopped.
        var (command, args) = AsPostgresUser(["/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", .. postgres, .. speed]);

        var resource = new LocalPostgresServerResource(name, command, root, port, password);
        var healthKey = $"{name}-ready";
        builder.Services.AddHealthChecks().AddNpgSql(
            $"Host=127.0.0.1;Port={port};Username=postgres;Password={password};Database=postgres;Timeout=3", name: healthKey);

        return builder.AddResource(resource)
            .WithArgs(args)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthKey);
    }

    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(this IResourceBuilder<LocalPostgresServerResource> server, string name)
    {
        var database = server.ApplicationBuilder.AddResource(new LocalPostgresDatabaseResource(name, name, server.Resource));
        // The database has no process of its own: it is up when its server is.
        server.ApplicationBuilder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, async (e, ct) =>
        {
            var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
            await notifications.PublishUpdateAsync(database.Resource, s => s with
            {
                State = KnownResourceStates.Running,
                Properties = [.. s.Properties, new ResourcePropertySnapshot("Database", name)],
            });
        });
        return database;
    }

    internal static string? FindBinDirectory()
    {
        const string debianRoot = "/usr/lib/postgresql";
        var versioned = Directory.Exists(debianRoot)
            ? Directory.GetDirectories(debianRoot)
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin"))
            : [];
        var candidates = versioned.Concat(LocalProcesses.OnPath("postgres").Select(p => Path.GetDirectoryName(p)!));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "postgres")) && File.Exists(Path.Combine(d, "initdb")));
    }

    /// <summary>Creates the cluster on first use and returns its superuser password (kept beside it, readable by this user only).</summary>
    private static string EnsureCluster(string binDir, string root, string cluster)
    {
        var passwordFile = Path.Combine(root, "password");
        if (File.Exists(Path.Combine(cluster, "PG_VERSION")) && File.Exists(passwordFile))
        {
            return File.ReadAllText(passwordFile).Trim();
        }

        if (Directory.Exists(cluster))
        {
            Directory.Delete(cluster, recursive: true);
        }

        Directory.CreateDirectory(cluster);
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var initPasswordFile = Path.Combine(root, "initdb-password");
        File.WriteAllText(initPasswordFile, password);
        try
        {
            if (LocalProcesses.IsRoot)
            {
                // initdb and postgres refuse to run as root.
                LocalProcesses.Run("chown", ["-R", $"{OsUser}:{OsUser}", cluster, initPasswordFile], TimeSpan.FromSeconds(10));
            }

            var (command, args) = AsPostgresUser([Path.Combine(binDir, "initdb"), "-D", cluster, "-U", "postgres",
                "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", $"--pwfile={initPasswordFile}", "-E", "UTF8", "--locale=C", "-N"]);
            LocalProcesses.Run(command, args, TimeSpan.FromSeconds(60));
        }
        finally
        {
            File.Delete(initPasswordFile);
        }

        File.WriteAllText(passwordFile, password);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return password;
    }

    private static (string Command, string[] Args) AsPostgresUser(string[] commandLine) =>
        LocalProcesses.IsRoot
            ? (LocalProcesses.FindExecutable(["/usr/bin/setpriv", .. LocalProcesses.OnPath("setpriv")]) ?? "setpriv", [$"--reuid={OsUser}", $"--regid={OsUser}", "--init-groups", "--", .. commandLine])
            : (commandLine[0], commandLine[1..]);
}
