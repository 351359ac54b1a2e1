using ImageGen.Api.Apis;
using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Data.Storage;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Images;

/// <summary>
/// Deletes uploads that no quest used within <see cref="UploadOptions.UnusedLifetime"/> (24 h): the row first (several
/// instances sweep at once without taking the same rows), then the file. A file whose delete fails is left behind and
/// logged; the row, and so the quota it counted against, is gone.
/// </summary>
internal sealed partial class UploadSweeper(IServiceScopeFactory scopes, IImageStore store, IOptions<UploadOptions> options, TimeProvider time,
    ILogger<UploadSweeper> logger) : BackgroundService
{
    private const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSweepFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One sweep, batch by batch until nothing expired is left; the number of uploads removed.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
            var keys = await db.TakeExpiredUploadsAsync(time.GetUtcNow() - options.Value.UnusedLifetime, Batch, cancellationToken);
            foreach (var key in keys)
            {
                try
                {
                    await store.DeleteAsync(key, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogFileLeft(logger, key, e);
                }
            }

            removed += keys.Count;
            if (keys.Count < Batch)
            {
                if (removed > 0)
                {
                    LogSwept(logger, removed);
                }

                return removed;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} uploads no quest used in time")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An expired upload's file {Key} could not be deleted; it is left in the store")]
    private static partial void LogFileLeft(ILogger logger, string key, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The upload expiry sweep failed; it runs again at its next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
