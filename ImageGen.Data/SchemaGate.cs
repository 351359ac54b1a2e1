using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImageGen.Data;

/// <summary>
/// Holds a service's start until the database has every migration this build knows (the migrations service or the
/// release's migrations Job applies them; under F5 the AppHost starts the service after it anyway). Registered before
/// the service's other background work, so nothing touches tables that are not there yet. Says what it waits for, every
/// few seconds, and gives up with one clear line after <see cref="Limit"/> (the orchestrator restarts the pod).
/// A schema newer than the build (a later release migrated first) is fine.
/// </summary>
public sealed partial class SchemaGate(IServiceScopeFactory scopes, ILogger<SchemaGate> logger) : IHostedService
{
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(3);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            IReadOnlyList<string> pending;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
                pending = [.. await db.Database.GetPendingMigrationsAsync(cancellationToken)];
            }
            catch (Exception e) when (e is not OperationCanceledException && waited.Elapsed < Limit)
            {
                LogUnreachable(logger, e.Message);
                await Task.Delay(Pause, cancellationToken);
                continue;
            }

            if (pending.Count == 0)
            {
                if (waited.Elapsed > Pause)
                {
                    LogReady(logger, waited.Elapsed.TotalSeconds);
                }

                return;
            }

            if (waited.Elapsed >= Limit)
            {
                throw new InvalidOperationException(
                    $"The database schema is {pending.Count} migration(s) behind this build after {Limit.TotalMinutes:0} minutes ({pending[^1]} is the newest missing): run the migrations (the migrations Job of this release) first.");
            }

            LogWaiting(logger, pending.Count, pending[^1]);
            await Task.Delay(Pause, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for the database schema: {Count} migration(s) not applied yet, the newest {Newest}; the migrations Job applies them")]
    private static partial void LogWaiting(ILogger logger, int count, string newest);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for the database to answer before checking its schema: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The database schema is current after {Seconds:0} s of waiting; starting")]
    private static partial void LogReady(ILogger logger, double seconds);
}
