using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ImageGen.Core.Quests;
using ImageGen.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ImageGen.Tests.Graph;

/// <summary>The graph's parts reached directly: Redis, Postgres (stopped and started), service processes and their logs.</summary>
public partial class GraphFixture
{
    /// <summary>The graph's Redis, for tests that act on the queue directly.</summary>
    public async Task<StackExchange.Redis.IConnectionMultiplexer> ConnectRedisAsync() =>
        await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync((await _app!.GetConnectionStringAsync("redis")) + ",allowAdmin=true");

    /// <summary>The graph's database, for tests that must write what no endpoint would (a corrupt row).</summary>
    public async Task<ImageGenDbContext> ConnectDatabaseAsync()
    {
        var options = new DbContextOptionsBuilder<ImageGenDbContext>();
        options.UseNpgsql(await _app!.GetConnectionStringAsync(ImageGenDbContext.ConnectionName));
        ImageGenDbContext.Configure(options);
        return new ImageGenDbContext(options.Options);
    }

    /// <summary>
    /// Takes the main graph alone (<see cref="GraphGate"/>): after the side-by-side tests, and once the quests they
    /// started have ended. The classes of <see cref="ExclusiveGraphCollection"/> call it first in their set-up.
    /// </summary>
    public async Task TakeAloneAsync(CancellationToken cancellationToken)
    {
        await GraphGate.Main.EnterAloneAsync(cancellationToken);
        await WaitForNoActiveQuestsAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Hands the main graph back to the side-by-side tests; last in an exclusive class's clean-up.</summary>
    public static void ReleaseAlone() => GraphGate.Main.ExitAlone();

    /// <summary>
    /// Waits, up to <paramref name="bound"/>, until no quest of this graph is queued or running: a side-by-side test can
    /// end before a quest it started does, and a test that counts provider calls or kills a worker needs the graph
    /// still. Past the bound the test runs anyway, and says what it sees.
    /// </summary>
    private async Task WaitForNoActiveQuestsAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        await using var db = await ConnectDatabaseAsync();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(bound);
        try
        {
            while (await db.Quests.AnyAsync(q => q.Status == QuestStatus.Queued || q.Status == QuestStatus.Running, limit.Token))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), limit.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine($"[graph] quests still queued or running after {bound.TotalSeconds:0} s; the test goes on");
        }
    }

    /// <summary>
    /// Stops the graph's Postgres as an operator would (a fast shutdown: sessions end, nothing is left half-done) and
    /// waits until the server process is gone.
    /// </summary>
    public async Task StopPostgresAsync(CancellationToken cancellationToken)
    {
        await FastShutdownOfPostgresAsync(cancellationToken);
        await _app!.ResourceNotifications.WaitForResourceAsync("postgres", e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>SIGINT to the graph's Postgres server: a fast shutdown, which ends open sessions rather than waiting for them.</summary>
    private async Task FastShutdownOfPostgresAsync(CancellationToken cancellationToken)
    {
        var port = new NpgsqlConnectionStringBuilder(await _app!.GetConnectionStringAsync(ImageGenDbContext.ConnectionName, cancellationToken)).Port;
        // A backend forked this instant still shows the server's command line until it renames itself: the server is
        // the one whose parent is not a match (a process gone meanwhile has no parent, 0).
        var matches = FindProcesses(program => program[0].EndsWith("/postgres", StringComparison.Ordinal) && program.Contains(port.ToString(CultureInfo.InvariantCulture)));
        foreach (var server in matches.Where(pid => ParentOf(pid) is var parent && parent != 0 && !matches.Contains(parent)))
        {
            using var kill = Process.Start("kill", ["-INT", server.ToString(CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync(cancellationToken);
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _logs = new();
    private readonly CancellationTokenSource _stopWatching = new();

    /// <summary>Every log line every service of this graph wrote so far (console output, as the dashboard shows it).</summary>
    public IReadOnlyCollection<string> LogLines => _logs;

    private void WatchLogs(DistributedApplication app)
    {
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var resource in app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>())
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await foreach (var batch in logs.WatchAsync(resource).WithCancellation(_stopWatching.Token))
                    {
                        foreach (var line in batch)
                        {
                            _logs.Enqueue($"{resource.Name}: {line.Content}");
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
        }
    }

    /// <summary>Starts the graph's Postgres again (the dashboard's Start command) and waits until it answers.</summary>
    public async Task StartPostgresAsync(CancellationToken cancellationToken)
    {
        var result = await _app!.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync("postgres", KnownResourceCommands.StartCommand, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        Assert.True(result.Success, result.Message);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("postgres", cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>
    /// Starts again the worker replica a test killed (the dashboard's Start command) and waits until it is healthy, so
    /// the tests after it have every worker the graph began with.
    /// </summary>
    public async Task RestartKilledWorkerAsync(CancellationToken cancellationToken)
    {
        var ended = await _app!.ResourceNotifications.WaitForResourceAsync("worker", e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        var result = await _app.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(ended.ResourceId, KnownResourceCommands.StartCommand, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        Assert.True(result.Success, result.Message);
        await _app.ResourceNotifications.WaitForResourceAsync("worker", e => e.ResourceId == ended.ResourceId && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, cancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(90), cancellationToken);
    }

    /// <summary>
    /// Ends this graph's .NET services at once (each exports to this fixture's telemetry receiver) and its Postgres by a
    /// fast shutdown, before the graph is stopped: a graceful stop waited for every open session (Postgres's default on
    /// SIGTERM), 6 s of every run's end, for a graph that is thrown away.
    /// </summary>
    private async Task EndServicesAsync()
    {
        var exportsHere = $"OTEL_EXPORTER_OTLP_ENDPOINT={Telemetry.Address.ToString().TrimEnd('/')}";
        foreach (var pid in FindProcesses(_ => true, environment => environment.Contains(exportsHere)))
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // It had ended.
            }
        }

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await FastShutdownOfPostgresAsync(bound.Token);
    }

    /// <summary>Process ids of this graph's running worker replicas.</summary>
    public Task<IReadOnlyList<int>> WorkerProcessIdsAsync() => ServiceProcessIdsAsync("ImageGen.Worker");

    /// <summary>Process ids of this graph's running gateways.</summary>
    public Task<IReadOnlyList<int>> GatewayProcessIdsAsync() => ServiceProcessIdsAsync("ImageGen.Gateway");

    /// <summary>Process ids of this graph's running API replicas.</summary>
    public Task<IReadOnlyList<int>> ApiProcessIdsAsync() => ServiceProcessIdsAsync("ImageGen.Api");

    /// <summary>
    /// Process ids of a service's running replicas: its processes whose environment names this graph's Redis (another
    /// graph may be running beside this one).
    /// </summary>
    private async Task<IReadOnlyList<int>> ServiceProcessIdsAsync(string program)
    {
        var redis = "ConnectionStrings__redis=" + await _app!.GetConnectionStringAsync("redis");
        // The service's own process: its program, or `dotnet` running its assembly.
        return FindProcesses(
            commandLine => commandLine[0].EndsWith("/" + program, StringComparison.Ordinal) || commandLine.Any(a => a.EndsWith(program + ".dll", StringComparison.Ordinal)),
            environment => environment.Contains(redis));
    }

    /// <summary>The directory the graph stores images in, as its workers were told.</summary>
    public async Task<string> ImageStorePathAsync()
    {
        var worker = (await WorkerProcessIdsAsync())[0];
        return File.ReadAllText($"/proc/{worker}/environ").Split('\0')
            .Single(v => v.StartsWith("ImageStore__Path=", StringComparison.Ordinal))["ImageStore__Path=".Length..];
    }

    /// <summary>Processes whose command line (and, if asked, environment) match.</summary>
    private static int ParentOf(int pid)
    {
        try
        {
            // /proc/pid/stat: "pid (name) state ppid ...", where the name may hold spaces.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static List<int> FindProcesses(Func<string[], bool> commandLine, Func<string[], bool>? environment = null)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (commandLine(File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0'))
                    && (environment is null || environment(File.ReadAllText(Path.Combine(dir, "environ")).Split('\0'))))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return pids;
    }
}
