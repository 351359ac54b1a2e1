namespace ImageGen.Worker.Providers;

/// <summary>
/// The cancel of a call whose job the provider keeps running: BFL and the Midjourney proxy have no cancel, so a job they
/// accepted runs on (and BFL counts it among the account's 24 active tasks) after the quest was cancelled, timed out or
/// handed back. <see cref="Ended"/> completes when the job ends there; until then <see cref="ProviderRouter"/> keeps the
/// account's slot for it taken, so a burst of cancels makes later quests wait for a slot here instead of failing on the
/// provider's limit. Callers treat it as the cancel it is.
/// </summary>
public sealed class ProviderJobLeftRunning(Task ended, OperationCanceledException cancel)
    : OperationCanceledException(cancel.Message, cancel, cancel.CancellationToken)
{
    /// <summary>Completes when the job ended at the provider, or when we stopped watching it (see <see cref="WatchAsync"/>).</summary>
    public Task Ended { get; } = ended;

    /// <summary>
    /// Asks the provider every <paramref name="interval"/> whether the job still runs, until it does not, it fails to
    /// answer <paramref name="maxFailures"/> times in a row or fails in a way asking again cannot mend (we cannot tell,
    /// so the slot is not held for ever), or <paramref name="bound"/> passes (the longest a job could still be running).
    /// Never throws.
    /// </summary>
    public static async Task WatchAsync(Func<CancellationToken, Task<bool>> stillRunning, TimeSpan interval, TimeSpan bound, int maxFailures)
    {
        using var watch = new CancellationTokenSource(bound);
        var failures = 0;
        try
        {
            while (true)
            {
                await Task.Delay(interval, watch.Token);
                try
                {
                    if (!await stillRunning(watch.Token))
                    {
                        return;
                    }

                    failures = 0;
                }
                catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !watch.IsCancellationRequested))
                {
                    if (++failures >= maxFailures)
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (watch.IsCancellationRequested)
        {
        }
    }
}
