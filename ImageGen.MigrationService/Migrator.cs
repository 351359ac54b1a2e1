using System.Diagnostics;
using ImageGen.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace ImageGen.MigrationService;

/// <summary>
/// Applies EF Core migrations (creating the database if it is missing), seeds the roles and the first admin, makes
/// sure the token key ring has a key, then stops the process. The AppHost starts the API and the workers only after
/// this step completed successfully.
/// </summary>
/// <remarks>
/// The work runs before any hosted service starts (<see cref="StartingAsync"/>): Data Protection reads its key ring at
/// start, from a table the migrations create, and on a new database it logged a failure with a stack trace first.
/// </remarks>
internal sealed partial class Migrator(
    IServiceProvider services,
    IOptions<AdminSeedOptions> admin,
    IHostApplicationLifetime lifetime,
    ILogger<Migrator> logger) : BackgroundService, IHostedLifecycleService
{
    private static readonly ActivitySource Source = new(ServiceDefaultsExtensions.TelemetryName);

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("database.migrate");
        try
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
            var started = Stopwatch.GetTimestamp();
            var pending = await PendingAsync(db, cancellationToken);
            await db.Database.MigrateAsync(cancellationToken);
            LogMigrated(logger, pending.Count, string.Join(", ", pending), (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            await AdminSeed.SeedAsync(scope.ServiceProvider, admin.Value, logger, cancellationToken);
            TokenKeys.EnsureKey(scope.ServiceProvider);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            LogFailed(logger, e);
            Environment.ExitCode = 1;
        }
    }

    /// <summary>
    /// The migrations the database lacks. The history table is made first when missing: read before it exists, EF logs
    /// the failed query as an error on every new database (dotnet/efcore#37328), though nothing is wrong.
    /// </summary>
    private static async Task<List<string>> PendingAsync(ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            if (!await creator.ExistsAsync(cancellationToken))
            {
                await creator.CreateAsync(cancellationToken);
            }
        });
        var history = db.GetService<IHistoryRepository>();
        await history.CreateIfNotExistsAsync(cancellationToken);
        var applied = (await history.GetAppliedMigrationsAsync(cancellationToken)).Select(m => m.MigrationId).ToHashSet(StringComparer.Ordinal);
        return [.. db.Database.GetMigrations().Where(m => !applied.Contains(m))];
    }

    /// <summary>The work is done by the time the host runs services: stop, with the exit code it set.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        lifetime.StopApplication();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} migration(s) [{Migrations}] in {ElapsedMs} ms")]
    private static partial void LogMigrated(ILogger logger, int count, string migrations, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Migrating the database failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
