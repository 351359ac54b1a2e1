using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>
/// Watches the local Redis and Postgres processes until each has been healthy once. One that exits before that (a
/// stale lock file after an unclean stop, a taken port, a data directory it may not read) would leave every service
/// waiting for it with no message: instead the AppHost says in one line which one stopped and why, and stops.
/// Exits after start (an operator's stop command, the outage tests) are left to the dashboard.
/// </summary>
internal sealed class LocalStartWatch(
    IReadOnlyList<(IResource Resource, string DataPath)> watched,
    ResourceNotificationService notifications,
    ResourceLoggerService logs,
    IHostApplicationLifetime lifetime)
{
    private const int KeptLines = 20;

    /// <summary>Starts watching before the orchestrator starts anything (its start does not return until all is up).</summary>
    public static void Attach(IDistributedApplicationBuilder builder, IReadOnlyList<(IResource Resource, string DataPath)> watched) =>
        builder.Eventing.Subscribe<BeforeStartEvent>((e, ct) =>
        {
            var lifetime = e.Services.GetRequiredService<IHostApplicationLifetime>();
            var watch = new LocalStartWatch(watched, e.Services.GetRequiredService<ResourceNotificationService>(),
                e.Services.GetRequiredService<ResourceLoggerService>(), lifetime);
            _ = watch.WatchAsync(lifetime.ApplicationStopping);
            return Task.CompletedTask;
        });

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        var recent = watched.ToDictionary(w => w.Resource, _ => new Queue<string>());
        foreach (var (resource, _) in watched)
        {
            _ = KeepRecentLinesAsync(resource, recent[resource], stoppingToken);
        }

        var started = new HashSet<IResource>();
        try
        {
            await foreach (var change in notifications.WatchAsync(stoppingToken))
            {
                if (!recent.ContainsKey(change.Resource) || started.Contains(change.Resource))
                {
                    continue;
                }

                var state = change.Snapshot.State?.Text;
                if (state == KnownResourceStates.Running && change.Snapshot.HealthStatus == HealthStatus.Healthy)
                {
                    started.Add(change.Resource);
                    if (started.Count == watched.Count)
                    {
                        return;
                    }
                }
                else if (state == KnownResourceStates.Exited || state == KnownResourceStates.FailedToStart || state == KnownResourceStates.Finished)
                {
                    // Give its last output a moment to arrive.
                    await Task.Delay(TimeSpan.FromMilliseconds(300), stoppingToken);
                    var dataPath = watched.First(w => w.Resource == change.Resource).DataPath;
                    string[] lines;
                    lock (recent[change.Resource])
                    {
                        lines = [.. recent[change.Resource]];
                    }

                    await Console.Error.WriteLineAsync(
                        "ImageGen cannot start: " + StartFailure.Explain(change.Resource.Name, change.Snapshot.ExitCode, lines, dataPath));
                    Environment.ExitCode = 1;
                    lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task KeepRecentLinesAsync(IResource resource, Queue<string> lines, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var batch in logs.WatchAsync(resource).WithCancellation(stoppingToken))
            {
                lock (lines)
                {
                    foreach (var line in batch)
                    {
                        lines.Enqueue(line.Content);
                        if (lines.Count > KeptLines)
                        {
                            lines.Dequeue();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>The one line that says why a local Redis or Postgres stopped during start, and what to do.</summary>
public static class StartFailure
{
    public static string Explain(string name, int? exitCode, IReadOnlyList<string> lastLines, string dataPath)
    {
        // The process's own words: without the orchestrator's notes and the timestamps it puts before each line.
        string[] own = [.. lastLines.Select(WithoutTimestamp).Where(l => !string.IsNullOrWhiteSpace(l) && !IsOrchestratorNote(l))];
        var reason = own.LastOrDefault(IsTelling) ?? own.LastOrDefault() ?? "it wrote nothing";
        var code = exitCode is { } c ? $" (exit code {c})" : "";
        return $"the local {name} stopped while starting{code}: {Clean(reason)}. {Advice(name, lastLines, dataPath)}";
    }

    private static bool IsTelling(string line) =>
        line.Contains("FATAL", StringComparison.Ordinal) || line.Contains("error", StringComparison.OrdinalIgnoreCase)
        || line.Contains("could not", StringComparison.OrdinalIgnoreCase) || line.Contains("denied", StringComparison.OrdinalIgnoreCase)
        || line.Contains("# ", StringComparison.Ordinal);

    private static bool IsOrchestratorNote(string line) =>
        line.StartsWith("[sys]", StringComparison.Ordinal) || line.Contains("certificate authorit", StringComparison.OrdinalIgnoreCase);

    private static string WithoutTimestamp(string line)
    {
        // "2026-11-29T10:49:52.5360000Z text"
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return space > 0 && DateTimeOffset.TryParse(line.AsSpan(0, space), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _)
            ? line[(space + 1)..]
            : line;
    }

    private static string Advice(string name, IReadOnlyList<string> lines, string dataPath)
    {
        bool Says(string text) => lines.Any(l => l.Contains(text, StringComparison.OrdinalIgnoreCase));

        if (Says("lock file") || Says("postmaster.pid"))
        {
            return $"Another server may still use {dataPath}: stop it, or if none runs, delete its postmaster.pid and start again.";
        }

        if (Says("address already in use") || Says("could not bind") || Says("could not create listen socket"))
        {
            return "Its port is taken by another process: start again (a new port is chosen each start).";
        }

        if (Says("permission denied") || Says("wrong ownership") || Says("permissions should be"))
        {
            return name == InfrastructureExtensions.PostgresName
                ? $"Its data directory must belong to the postgres user: chown -R postgres:postgres {dataPath}"
                : $"It cannot write {dataPath}: check the directory's owner and permissions.";
        }

        return $"Its data is in {dataPath}; if it was left broken by an unclean stop, move it aside and start again (a new one is created).";
    }

    private static string Clean(string line) => line.Trim().TrimEnd('.');
}
