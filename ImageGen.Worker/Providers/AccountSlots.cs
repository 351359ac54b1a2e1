namespace ImageGen.Worker.Providers;

/// <summary>
/// A provider account's jobs in flight from this worker: one slot per job, taken before the call and given back when
/// the job ends at the provider, which for a job the provider runs on after our cancel is later than the call
/// (<see cref="ProviderJobLeftRunning"/>).
/// </summary>
internal sealed class AccountSlots(int count)
{
    private readonly SemaphoreSlim _free = new(count, count);

    public int Free => _free.CurrentCount;

    public Task TakeAsync(CancellationToken cancellationToken) => _free.WaitAsync(cancellationToken);

    /// <summary>The call ended, and its job with it.</summary>
    public void Return() => _free.Release();

    /// <summary>The call ended but the provider runs its job on: the slot comes back when <paramref name="jobEnded"/> completes.</summary>
    public void ReturnWhen(Task jobEnded, Action returned) =>
        _ = jobEnded.ContinueWith(_ =>
        {
            _free.Release();
            returned();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
