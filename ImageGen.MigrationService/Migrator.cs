using System.Diagnostics;
using ImageGen.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ImageGen.MigrationService;

/// <summary>
/// Applies EF Core migrations (creating the database if it is missing), seeds the roles and the first admin, makes
/// sure the token key ring has a key, then stops the process. The AppHost starts the API and the workers only after
/// this step completed successfully.
/// </summary>
internal sealed partial class Migrator(
    IServiceProvider services,
    IOptions<AdminSeedOptions> admin,
    IHostApplicationLifetime lifetime,
    ILogger<Migrator> logger) : BackgroundService
{
    private static readonly ActivitySource Source = new(ServiceDefaultsExtensions.TelemetryName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var activity = Source.StartActivity("database.migrate");
        try
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
            var pending = (await db.Database.GetPendingMigrationsAsync(stoppingToken)).ToList();
            var started = Stopwatch.GetTimestamp();
            await db.Database.MigrateAsync(stoppingToken);
            LogMigrated(logger, pending.Count, string.Join(", ", pending), (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            await AdminSeed.SeedAsync(scope.ServiceProvider, admin.Value, logger, stoppingToken);
            TokenKeys.EnsureKey(scope.ServiceProvider);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            LogFailed(logger, e);
            Environment.ExitCode = 1;
        }

        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} migration(s) [{Migrations}] in {ElapsedMs} ms")]
    private static partial void LogMigrated(ILogger logger, int count, string migrations, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Migrating the database failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
