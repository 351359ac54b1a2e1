using ImageGen.Api.Images;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The decode slots are shared fairly: a user who arrives while another's burst holds every slot gets the next one
/// that frees, ahead of the burst's queued decodes.
/// </summary>
public sealed class FairDecodeGateTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_burst_never_takes_the_last_slot_so_another_users_decode_starts_at_once()
    {
        var gate = new FairDecodeGate(3);
        var (burst, other) = (Guid.NewGuid(), Guid.NewGuid());
        var running = new List<FairDecodeGate.Slot> { await gate.EnterAsync(burst, Token), await gate.EnterAsync(burst, Token) };
        var queued = Enumerable.Range(0, 6).Select(_ => gate.EnterAsync(burst, Token).AsTask()).ToList();
        Assert.Equal((2, 6), gate.Load);

        // The third slot stayed free for anyone else: taken at once.
        var small = await gate.EnterAsync(other, Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.All(queued, q => Assert.False(q.IsCompleted));
        small.Dispose();
        Assert.All(queued, q => Assert.False(q.IsCompleted));

        // The burst goes on one freed slot at a time, in the order it came.
        running[0].Dispose();
        var first = await queued[0].WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.False(queued[1].IsCompleted);
        first.Dispose();
        running[1].Dispose();
        foreach (var rest in queued.Skip(1))
        {
            (await rest.WaitAsync(TimeSpan.FromSeconds(5), Token)).Dispose();
        }

        Assert.Equal((0, 0), gate.Load);
    }

    [Fact]
    public async Task When_every_slot_is_taken_the_user_with_fewer_decodes_goes_first()
    {
        var gate = new FairDecodeGate(3);
        var (burst, other, third) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var heavy = new[] { await gate.EnterAsync(burst, Token), await gate.EnterAsync(burst, Token) };
        var light = await gate.EnterAsync(other, Token);
        var burstWaits = gate.EnterAsync(burst, Token).AsTask();
        var thirdWaits = gate.EnterAsync(third, Token).AsTask();

        heavy[0].Dispose();

        // The freed slot went to the user running nothing, not to the burst that waited first.
        var thirds = await thirdWaits.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.False(burstWaits.IsCompleted);
        thirds.Dispose();
        (await burstWaits.WaitAsync(TimeSpan.FromSeconds(5), Token)).Dispose();
        light.Dispose();
        heavy[1].Dispose();
        Assert.Equal((0, 0), gate.Load);
    }

    [Fact]
    public async Task With_one_slot_a_user_alone_still_decodes()
    {
        var gate = new FairDecodeGate(1);
        var user = Guid.NewGuid();
        (await gate.EnterAsync(user, Token)).Dispose();
        (await gate.EnterAsync(user, Token)).Dispose();
        Assert.Equal((0, 0), gate.Load);
    }

    [Fact]
    public async Task A_caller_that_gives_up_waiting_leaves_no_slot_taken()
    {
        var gate = new FairDecodeGate(1);
        var holder = await gate.EnterAsync(Guid.NewGuid(), Token);
        using var cancel = new CancellationTokenSource();
        var waiting = gate.EnterAsync(Guid.NewGuid(), cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        holder.Dispose();
        Assert.Equal((0, 0), gate.Load);
        (await gate.EnterAsync(Guid.NewGuid(), Token)).Dispose();
    }
}
