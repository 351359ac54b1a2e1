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
    public async Task Another_users_decode_takes_the_next_free_slot_ahead_of_a_burst()
    {
        var gate = new FairDecodeGate(2);
        var (burst, other) = (Guid.NewGuid(), Guid.NewGuid());
        var running = new List<FairDecodeGate.Slot> { await gate.EnterAsync(burst, Token), await gate.EnterAsync(burst, Token) };
        var queued = Enumerable.Range(0, 6).Select(_ => gate.EnterAsync(burst, Token).AsTask()).ToList();
        var small = gate.EnterAsync(other, Token).AsTask();
        Assert.Equal((2, 7), gate.Load);

        running[0].Dispose();

        var slot = await small.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.All(queued, q => Assert.False(q.IsCompleted));
        slot.Dispose();
        // Then the burst's decodes go on, in the order they came, one per freed slot.
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
