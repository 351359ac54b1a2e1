using ImageGen.Worker.Providers;

namespace ImageGen.Tests.Unit;

/// <summary>
/// A provider account's slots follow its jobs, not our calls: a job the provider runs on after our cancel keeps its
/// slot until it ends there, so the next quest waits here rather than failing on the provider's own limit.
/// </summary>
public sealed class AccountSlotsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_slot_whose_job_runs_on_comes_back_only_when_the_job_ends()
    {
        var slots = new AccountSlots(2);
        await slots.TakeAsync(Token);
        await slots.TakeAsync(Token);

        var jobEnded = new TaskCompletionSource();
        var returned = 0;
        slots.ReturnWhen(jobEnded.Task, () => returned++);
        Assert.Equal(0, slots.Free);
        var next = slots.TakeAsync(Token);
        await Task.Delay(100, Token);
        Assert.False(next.IsCompleted, "a quest took the slot of a job still running at the provider");

        jobEnded.SetResult();
        await next.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.Equal(1, returned);

        slots.Return();
        Assert.Equal(1, slots.Free);
    }

    [Fact]
    public async Task A_watch_that_failed_still_gives_the_slot_back()
    {
        var slots = new AccountSlots(1);
        await slots.TakeAsync(Token);
        slots.ReturnWhen(Task.FromException(new InvalidOperationException("the watch broke")), () => { });
        await slots.TakeAsync(Token).WaitAsync(TimeSpan.FromSeconds(5), Token);
    }
}
