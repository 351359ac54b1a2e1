using System.Diagnostics;
using System.Globalization;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ImageGen.Tests.Database;

/// <summary>
/// A Postgres cluster of its own for rules about money and state: initdb into a temporary directory, the server on a
/// free loopback port without fsync, the project's migrations applied. No other service starts. Deleted when disposed.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncLifetime
{
    private const string OsUser = "postgres";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"imagegen-pg-{Guid.NewGuid():N}");
    private Process? _server;

    public string ConnectionString { get; private set; } = "";

    /// <summary>How long the cluster took to be ready, migrations included.</summary>
    public TimeSpan StartDuration { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var started = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(StartTimeout);
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture))
            .Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            ?? throw new InvalidOperationException("The PostgreSQL server is not installed (apt-get install postgresql).");
        var data = Path.Combine(_root, "data");
        Directory.CreateDirectory(data);
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", $"{OsUser}:{OsUser}", _root], timeout.Token);
        }

        await RunAsync(AsPostgres([Path.Combine(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-N"]), timeout.Token);
        var port = AppHost.Infrastructure.LocalProcesses.FreePort();
        var (command, args) = AsPostgres([Path.Combine(bin, "postgres"), "-D", data, "-p", port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={_root}", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=100"]);
        _server = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=imagegen;Include Error Detail=true";
        await WaitForServerAsync(port, timeout.Token);
        await using (var db = CreateContext())
        {
            await db.Database.MigrateAsync(timeout.Token);
        }

        StartDuration = started.Elapsed;
    }

    public ImageGenDbContext CreateContext()
    {
        var options = new DbContextOptionsBuilder<ImageGenDbContext>().UseNpgsql(ConnectionString);
        ImageGenDbContext.Configure(options);
        return new ImageGenDbContext(options.Options);
    }

    /// <summary>A new user with an address of its own under <paramref name="label"/>, for a test to add with its rows.</summary>
    public static ImageGenUser NewUser(string label)
    {
        var email = $"{label}-{Guid.NewGuid():N}@db.test";
        return new ImageGenUser
        {
            Id = Guid.CreateVersion7(), UserName = email, Email = email, NormalizedEmail = email.ToUpperInvariant(),
            NormalizedUserName = email.ToUpperInvariant(), CreatedAt = DateTimeOffset.UtcNow,
        };
    }

    private async Task WaitForServerAsync(int port, CancellationToken cancellationToken)
    {
        var admin = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=2";
        while (true)
        {
            if (_server!.HasExited)
            {
                throw new InvalidOperationException($"postgres exited with {_server.ExitCode} during start.");
            }

            try
            {
                await using var connection = new NpgsqlConnection(admin);
                await connection.OpenAsync(cancellationToken);
                await using var create = new NpgsqlCommand("CREATE DATABASE imagegen", connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException) when (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is { HasExited: false })
        {
            // A fast shutdown: sessions end at once.
            using (var stop = Process.Start("kill", ["-INT", _server.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await stop.WaitForExitAsync();
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _server.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _server.Kill(entireProcessTree: true);
            }
        }

        _server?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temporary directory's own clean-up.
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>initdb and postgres refuse root: as root they run as the postgres OS user.</summary>
    private static (string Command, string[] Args) AsPostgres(string[] commandLine) =>
        IsRoot ? ("setpriv", [$"--reuid={OsUser}", $"--regid={OsUser}", "--init-groups", "--", .. commandLine]) : (commandLine[0], commandLine[1..]);

    private static Task RunAsync((string Command, string[] Args) commandLine, CancellationToken cancellationToken) =>
        RunAsync(commandLine.Command, commandLine.Args, cancellationToken);

    private static async Task RunAsync(string command, string[] args, CancellationToken cancellationToken)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed ({process.ExitCode}): {await error}{await output}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DatabaseCollection : ICollectionFixture<ThrowawayPostgres>
{
    public const string Name = "database";
}
