using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Database;

/// <summary>
/// Transitions the state graph does not hold, tried against Postgres: each statement changes nothing (status, ledger,
/// timeline), however the caller asks.
/// </summary>
public sealed partial class QuestTransitionTests
{
    [Theory]
    [InlineData(QuestStatus.Succeeded)]
    [InlineData(QuestStatus.Failed)]
    [InlineData(QuestStatus.Cancelled)]
    [InlineData(QuestStatus.TimedOut)]
    public async Task No_transition_leaves_an_ended_quest(QuestStatus ended)
    {
        var (quest, run) = await EndedQuestAsync(ended);
        var before = await SnapshotAsync(quest.Id);

        // To Running (a claim), Succeeded, Failed, Cancelled (by the run and by the owner), Queued (a hand-back, a requeue).
        Assert.IsType<ClaimOutcome.NotClaimable>(await WithTransitions(t => t.ClaimAsync(quest.Id, Lease, 3, "late worker", Token)));
        Assert.Null(await WithTransitions(t => t.SucceedAsync(run, [Image(run, 0)], 1, TimeSpan.Zero, null, [], Token)));
        Assert.Null(await WithTransitions(t => t.FailAsync(quest.Id, run.Attempts, ErrorCodes.ProviderError, "late", [], Token)));
        Assert.Null(await WithTransitions(t => t.CancelRunAsync(run, [], Token)));
        Assert.IsType<CancelOutcome.AlreadyEnded>(await WithTransitions(t => t.CancelByOwnerAsync(quest.Id, quest.UserId, Token)));
        Assert.Null(await WithTransitions(t => t.HandBackAsync(quest.Id, run.Attempts, [], Token)));
        Assert.Null(await WithTransitions(t => t.EndUnfinishedAsync(quest.Id, QuestStatus.TimedOut, ErrorCodes.TimedOut, "late", Token)));

        Assert.Equal(before, await SnapshotAsync(quest.Id));
    }

    [Fact]
    public async Task A_queued_quest_cannot_succeed_or_be_handed_back_without_a_run()
    {
        var quest = await QueuedQuestAsync(cost: 5);
        var before = await SnapshotAsync(quest.Id);

        Assert.Null(await WithTransitions(t => t.SucceedAsync(quest, [Image(quest, 0)], 1, TimeSpan.Zero, null, [], Token)));
        Assert.Null(await WithTransitions(t => t.HandBackAsync(quest.Id, quest.Attempts, [], Token)));
        Assert.Null(await WithTransitions(t => t.CancelRunAsync(quest, [], Token)));

        Assert.Equal(before, await SnapshotAsync(quest.Id));
    }

    [Fact]
    public async Task A_success_whose_reservation_is_not_the_stored_one_changes_nothing()
    {
        var run = await RunningQuestAsync(cost: 5);
        var before = await SnapshotAsync(run.Id);

        // A caller that computed the charge from another reservation cannot settle the quest with it.
        Assert.Null(await WithTransitions(t => t.SucceedAsync(new Quest
        {
            Id = run.Id, UserId = run.UserId, Prompt = run.Prompt, Model = run.Model, Parameters = run.Parameters, Attempts = run.Attempts, Cost = 500,
        }, [Image(run, 0)], 400, TimeSpan.Zero, null, [], Token)));

        Assert.Equal(before, await SnapshotAsync(run.Id));
        Assert.Equal(QuestStatus.Running, (await ReadAsync(run.Id)).Status);
    }

    [Fact]
    public async Task Each_ending_stores_what_it_charged_and_the_ledger_agrees()
    {
        var succeeded = await RunningQuestAsync(cost: 8);
        Assert.Equal(6, (await WithTransitions(t => t.SucceedAsync(succeeded, [Image(succeeded, 0)], 6, TimeSpan.Zero, null, [], Token)))!.Charged);
        var failed = await RunningQuestAsync(cost: 8);
        Assert.Equal(0, (await WithTransitions(t => t.FailAsync(failed.Id, failed.Attempts, ErrorCodes.ProviderError, "no", [], Token)))!.Charged);
        var cancelled = await QueuedQuestAsync(cost: 8);
        Assert.Equal(0, Assert.IsType<CancelOutcome.Cancelled>(await WithTransitions(t => t.CancelByOwnerAsync(cancelled.Id, cancelled.UserId, Token))).Quest.Charged);

        foreach (var (quest, charged) in new[] { (succeeded, 6), (failed, 0), (cancelled, 0) })
        {
            Assert.Equal(charged, (await ReadAsync(quest.Id)).Charged);
            Assert.Equal(100 - charged, await BalanceAsync(quest.UserId));
        }
    }

    [Fact]
    public async Task A_cancel_from_the_providers_billing_point_on_is_charged_what_it_bills_and_before_it_nothing()
    {
        var before = await RunningQuestAsync(cost: 7);
        Assert.Equal(0, (await WithTransitions(t => t.CancelRunAsync(before, [], Token)))!.Charged);
        Assert.Equal(100, await BalanceAsync(before.UserId));

        var sent = await RunningQuestAsync(cost: 7);
        // Sent, refused (not billed), sent again: billable from the second send.
        Assert.True(await WithTransitions(t => t.RecordBillableAsync(sent.Id, sent.Attempts, true, Token)));
        Assert.True(await WithTransitions(t => t.RecordBillableAsync(sent.Id, sent.Attempts, false, Token)));
        Assert.Null((await ReadAsync(sent.Id)).BillableSince);
        Assert.True(await WithTransitions(t => t.RecordBillableAsync(sent.Id, sent.Attempts, true, Token)));
        var stored = await ReadAsync(sent.Id);
        Assert.NotNull(stored.BillableSince);

        var cancelled = await WithTransitions(t => t.CancelRunAsync(stored, [], Token));
        Assert.Equal((QuestStatus.Cancelled, 7), (cancelled!.Status, cancelled.Charged));
        Assert.Equal(93, await BalanceAsync(sent.UserId));
        Assert.Contains("provider", cancelled.ErrorMessage, StringComparison.Ordinal);

        // A run that lost the quest cannot mark it.
        Assert.False(await WithTransitions(t => t.RecordBillableAsync(sent.Id, sent.Attempts, true, Token)));
    }

    /// <summary>A quest (cost 5) ended as <paramref name="ended"/>, and the run that held it last (or the queued quest, for a cancel).</summary>
    private async Task<(Quest Quest, Quest Run)> EndedQuestAsync(QuestStatus ended)
    {
        if (ended == QuestStatus.Cancelled)
        {
            var queued = await QueuedQuestAsync(cost: 5);
            Assert.IsType<CancelOutcome.Cancelled>(await WithTransitions(t => t.CancelByOwnerAsync(queued.Id, queued.UserId, Token)));
            return (queued, queued);
        }

        var run = await RunningQuestAsync(cost: 5);
        var result = ended == QuestStatus.Succeeded
            ? await WithTransitions(t => t.SucceedAsync(run, [Image(run, 0)], 5, TimeSpan.Zero, null, [], Token))
            : await WithTransitions(t => t.FailAsync(run.Id, run.Attempts, ErrorCodes.ProviderError, "ended", [], Token, ended));
        Assert.Equal(ended, result!.Status);
        return (run, run);
    }

    /// <summary>What a forbidden transition must leave as it was: the status, the owner's ledger and the quest's timeline.</summary>
    private async Task<string> SnapshotAsync(Guid questId)
    {
        await using var db = postgres.CreateContext();
        var quest = await db.Quests.AsNoTracking().SingleAsync(q => q.Id == questId, Token);
        var entries = await db.CreditEntries.AsNoTracking().Where(e => e.UserId == quest.UserId).OrderBy(e => e.Id).Select(e => $"{e.Kind}:{e.Amount}").ToListAsync(Token);
        var steps = await db.QuestSteps.AsNoTracking().CountAsync(s => s.QuestId == questId, Token);
        var images = await db.QuestImages.AsNoTracking().CountAsync(i => i.QuestId == questId, Token);
        return $"{quest.Status} {quest.Attempts} charged={quest.Charged} ledger=[{string.Join(",", entries)}] steps={steps} images={images} "
            + $"balance={await BalanceAsync(quest.UserId)}";
    }
}
