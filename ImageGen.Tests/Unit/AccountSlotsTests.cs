using ImageGen.Worker.Providers;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace ImageGen.Tests.Unit;

/// <summary>
/// A provider account's slots follow its jobs, not our calls: a job the provider runs on after our cancel keeps its
/// slot until it ends there, so the next quest waits here rather than failing on the provider's own limit. Here Redis
/// cannot be reached, so the worker's own count is what holds (the fleet-wide count is proven on two hosts:
/// <c>TwoHostTests</c>).
/// </summary>
public sealed class AccountSlotsTests : IDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private readonly ConnectionMultiplexer _unreachable = ConnectionMultiplexer.Connect(new ConfigurationOptions
    {
        EndPoints = { { "127.0.0.1", 1 } },
        AbortOnConnectFail = false,
        ConnectTimeout = 200,
        BacklogPolicy = BacklogPolicy.FailFast,
    });

    private AccountSlots Slots(int limit) => new("test", limit, _unreachable, TimeSpan.FromSeconds(30), TimeProvider.System, NullLogger.Instance);

    private static Task NoWait() => Task.CompletedTask;

    public void Dispose() => _unreachable.Dispose();

    [Fact]
    public async Task A_slot_whose_job_runs_on_comes_back_only_when_the_job_ends()
    {
        using var slots = Slots(2);
        await slots.TakeAsync(NoWait, Token);
        var second = await slots.TakeAsync(NoWait, Token);

        var jobEnded = new TaskCompletionSource();
        var returned = 0;
        slots.ReturnWhen(second, jobEnded.Task, () => returned++);
        Assert.Equal(0, slots.Free);
        var next = slots.TakeAsync(NoWait, Token);
        await Task.Delay(100, Token);
        Assert.False(next.IsCompleted, "a quest took the slot of a job still running at the provider");

        jobEnded.SetResult();
        slots.Return(await next.WaitAsync(TimeSpan.FromSeconds(5), Token));
        Assert.Equal(1, returned);

        Assert.Equal(1, slots.Free);
    }

    [Fact]
    public async Task A_watch_that_failed_still_gives_the_slot_back()
    {
        using var slots = Slots(1);
        var slot = await slots.TakeAsync(NoWait, Token);
        slots.ReturnWhen(slot, Task.FromException(new InvalidOperationException("the watch broke")), () => { });
        await slots.TakeAsync(NoWait, Token).WaitAsync(TimeSpan.FromSeconds(5), Token);
    }
}
