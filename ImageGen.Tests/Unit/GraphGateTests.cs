using ImageGen.Tests.Graph;
using Microsoft.Extensions.Time.Testing;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The main graph's gate: side-by-side tests share it, a test that changes what every test relies on has it alone, and
/// only after the sharing has gone quiet.
/// </summary>
public sealed class GraphGateTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(3);
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Shared_uses_run_together_and_a_lone_one_waits_for_them_and_for_the_quiet()
    {
        var (time, gate) = QuietGate();
        await gate.EnterSharedAsync(Token);
        await gate.EnterSharedAsync(Token);

        var alone = gate.EnterAloneAsync(Token).AsTask();
        gate.ExitShared();
        await Settle();
        Assert.False(alone.IsCompleted, "went alone while a shared test still ran");

        gate.ExitShared();
        time.Advance(Quiet - TimeSpan.FromMilliseconds(1));
        await Settle();
        Assert.False(alone.IsCompleted, "went alone before the sharing had gone quiet");

        time.Advance(TimeSpan.FromMilliseconds(1));
        await alone.WaitAsync(TimeSpan.FromSeconds(5), Token);
    }

    [Fact]
    public async Task A_shared_use_waits_while_a_lone_one_runs_and_goes_first_after_it()
    {
        var (time, gate) = QuietGate();
        await gate.EnterAloneAsync(Token);

        var shared = gate.EnterSharedAsync(Token).AsTask();
        await Settle();
        Assert.False(shared.IsCompleted, "shared the graph while a lone test had it");

        gate.ExitAlone();
        // The next lone test asks at once: the waiting shared one still goes first.
        var next = gate.EnterAloneAsync(Token).AsTask();
        await shared.WaitAsync(TimeSpan.FromSeconds(5), Token);
        time.Advance(Quiet);
        await Settle();
        Assert.False(next.IsCompleted, "a lone test went beside a shared one");

        gate.ExitShared();
        time.Advance(Quiet);
        await next.WaitAsync(TimeSpan.FromSeconds(5), Token);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_gate_as_it_was()
    {
        var (time, gate) = QuietGate();
        await gate.EnterAloneAsync(Token);
        using var giveUp = new CancellationTokenSource();
        var shared = gate.EnterSharedAsync(giveUp.Token).AsTask();
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => shared);

        // The abandoned waiter does not hold the next lone test back.
        gate.ExitAlone();
        time.Advance(Quiet);
        await gate.EnterAloneAsync(Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Token);
    }

    /// <summary>A gate on a fake clock, past its first quiet period (as at the start of a run).</summary>
    private static (FakeTimeProvider Time, GraphGate Gate) QuietGate()
    {
        var time = new FakeTimeProvider();
        var gate = new GraphGate(time, Quiet);
        time.Advance(Quiet);
        return (time, gate);
    }

    /// <summary>Lets woken continuations run (they run asynchronously) before looking.</summary>
    private static Task Settle() => Task.Delay(50, Token);
}
