using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Database;

/// <summary>A worker's run: claims against claims, cancels and the reconciler; settlement once; lapsed leases.</summary>
public sealed partial class QuestTransitionTests
{
    [Fact]
    public async Task Two_workers_claiming_one_quest_give_it_to_exactly_one()
    {
        var quest = await QueuedQuestAsync(cost: 5);
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => WithTransitions(t => t.ClaimAsync(quest.Id, Lease, 3, $"worker-{i}", Token))));
        Assert.Single(claims, c => c is ClaimOutcome.Claimed);
        Assert.Equal(7, claims.Count(c => c is ClaimOutcome.NotClaimable));
        var stored = await ReadAsync(quest.Id);
        Assert.Equal(QuestStatus.Running, stored.Status);
        Assert.Equal(1, stored.Attempts);
        Assert.Single(await StepsAsync(quest.Id), s => s.Kind == QuestStepKinds.Started);
    }

    [Fact]
    public async Task A_claim_racing_the_owners_cancel_ends_one_way_only_and_the_money_follows()
    {
        for (var round = 0; round < 10; round++)
        {
            var quest = await QueuedQuestAsync(cost: 5);
            var claim = WithTransitions(t => t.ClaimAsync(quest.Id, Lease, 3, "worker", Token));
            var cancel = WithTransitions(t => t.CancelByOwnerAsync(quest.Id, quest.UserId, Token));
            await Task.WhenAll(claim, cancel);

            var stored = await ReadAsync(quest.Id);
            if (await cancel is CancelOutcome.Cancelled)
            {
                Assert.IsType<ClaimOutcome.NotClaimable>(await claim);
                Assert.Equal(QuestStatus.Cancelled, stored.Status);
                Assert.Equal(100, await BalanceAsync(quest.UserId));
            }
            else
            {
                Assert.IsType<CancelOutcome.Requested>(await cancel);
                Assert.IsType<ClaimOutcome.Claimed>(await claim);
                Assert.Equal(QuestStatus.Running, stored.Status);
                Assert.True(stored.CancelRequested);
                Assert.Equal(95, await BalanceAsync(quest.UserId));
            }
        }
    }

    [Fact]
    public async Task A_success_settles_once_however_often_it_is_reported()
    {
        var quest = await RunningQuestAsync(cost: 8);
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            WithTransitions(t => t.SucceedAsync(quest, [Image(quest, i)], billed: 6, TimeSpan.FromSeconds(1), 7, [], Token))));
        Assert.Single(results, r => r is not null);
        Assert.Equal(94, await BalanceAsync(quest.UserId));
        await using var db = postgres.CreateContext();
        Assert.Single(await db.QuestImages.Where(i => i.QuestId == quest.Id).ToListAsync(Token));
        Assert.Single(await db.CreditEntries.Where(e => e.QuestId == quest.Id && e.Kind == CreditEntryKind.Capture).ToListAsync(Token));
        var stored = await ReadAsync(quest.Id);
        Assert.Equal(QuestStatus.Succeeded, stored.Status);
        Assert.Equal(QuestStatusTexts.Done, stored.StatusText);
    }

    [Fact]
    public async Task A_negative_provider_cost_is_never_a_credit_and_a_high_one_never_charges_more_than_reserved()
    {
        var negative = await RunningQuestAsync(cost: 5);
        Assert.NotNull(await WithTransitions(t => t.SucceedAsync(negative, [Image(negative, 0)], billed: -50, TimeSpan.Zero, null, [], Token)));
        Assert.Equal(95, await BalanceAsync(negative.UserId));
        Assert.Contains(await StepsAsync(negative.Id), s => s.Code == "provider_cost_invalid");

        var high = await RunningQuestAsync(cost: 5);
        Assert.NotNull(await WithTransitions(t => t.SucceedAsync(high, [Image(high, 0)], billed: 5000, TimeSpan.Zero, null, [], Token)));
        Assert.Equal(95, await BalanceAsync(high.UserId));
    }

    [Fact]
    public async Task A_failure_gives_the_whole_reservation_back_and_provider_text_of_any_length_is_stored_cut()
    {
        var quest = await RunningQuestAsync(cost: 5);
        var longText = new string('x', 5000);
        var steps = new List<QuestStep> { new() { QuestId = quest.Id, Run = quest.Attempts, At = DateTimeOffset.UtcNow, Kind = QuestStepKinds.ProviderCall, Detail = longText, Code = longText } };
        Assert.True(await WithTransitions(t => t.RecordProgressAsync(quest.Id, quest.Attempts, 0.5, longText, [], Token)));
        var failed = await WithTransitions(t => t.FailAsync(quest.Id, quest.Attempts, ErrorCodes.ProviderError, longText, steps, Token));

        Assert.NotNull(failed);
        Assert.Equal(QuestLimits.MaxErrorMessageLength, failed.ErrorMessage!.Length);
        Assert.Equal(100, await BalanceAsync(quest.UserId));
        Assert.Contains(await StepsAsync(quest.Id), s => s.Kind == QuestStepKinds.ProviderCall && s.Detail!.Length == QuestStepLimits.MaxDetailLength);
    }

    [Fact]
    public async Task A_cancel_before_the_provider_accepted_is_free_and_after_it_charges_what_the_provider_bills()
    {
        var early = await RunningQuestAsync(cost: 5);
        var free = await WithTransitions(t => t.CancelRunAsync(early, [], Token));
        Assert.Equal(QuestStatus.Cancelled, free!.Status);
        Assert.Equal(100, await BalanceAsync(early.UserId));

        var accepted = await RunningQuestAsync(cost: 5);
        Assert.True(await WithTransitions(t => t.RecordJobAcceptedAsync(accepted.Id, accepted.Attempts, "job-1", "https://api.bfl.ai/v1/get_result?id=job-1", 3, [], Token)));
        var charged = await WithTransitions(async t => await t.CancelRunAsync(await ReadAsync(accepted.Id), [], Token));
        Assert.Equal(QuestStatus.Cancelled, charged!.Status);
        Assert.Contains("3 of the 5", charged.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(97, await BalanceAsync(accepted.UserId));

        // No figure from the provider: the reservation is what it bills.
        var unknown = await RunningQuestAsync(cost: 5);
        Assert.True(await WithTransitions(t => t.RecordJobAcceptedAsync(unknown.Id, unknown.Attempts, "job-2", "https://api.bfl.ai/v1/get_result?id=job-2", null, [], Token)));
        await WithTransitions(async t => await t.CancelRunAsync(await ReadAsync(unknown.Id), [], Token));
        Assert.Equal(95, await BalanceAsync(unknown.UserId));
    }

    /// <summary>A queued quest (cost 5) claimed by worker "a" with a lease over at once (its worker "died"), then by "b".</summary>
    private async Task<(Quest Quest, Quest First, Quest Second)> TakenOverAsync()
    {
        var quest = await QueuedQuestAsync(cost: 5);
        var first = Assert.IsType<ClaimOutcome.Claimed>(await WithTransitions(t => t.ClaimAsync(quest.Id, TimeSpan.FromSeconds(-1), 3, "a", Token))).Quest;
        var second = Assert.IsType<ClaimOutcome.Claimed>(await WithTransitions(t => t.ClaimAsync(quest.Id, Lease, 3, "b", Token))).Quest;
        return (quest, first, second);
    }

    [Fact]
    public async Task A_run_whose_lease_lapsed_and_was_taken_over_can_no_longer_end_the_quest()
    {
        var (quest, first, second) = await TakenOverAsync();
        Assert.Equal(2, second.Attempts);

        Assert.Null(await WithTransitions(t => t.FailAsync(quest.Id, first.Attempts, ErrorCodes.ProviderError, "late", [], Token)));
        Assert.False(await WithTransitions(t => t.RecordProgressAsync(quest.Id, first.Attempts, 0.9, "late", [], Token)));
        Assert.Null(await WithTransitions(t => t.SucceedAsync(first, [Image(first, 0)], null, TimeSpan.Zero, null, [], Token)));
        Assert.Null(await WithTransitions(t => t.HandBackAsync(quest.Id, first.Attempts, [], Token)));
        Assert.NotNull(await WithTransitions(t => t.SucceedAsync(second, [Image(second, 0)], null, TimeSpan.Zero, null, [], Token)));
        Assert.Equal(95, await BalanceAsync(quest.UserId));
    }

    [Fact]
    public async Task A_success_writes_its_images_and_the_runs_steps_before_its_ending_and_a_lost_run_writes_neither()
    {
        var (quest, first, second) = await TakenOverAsync();
        QuestStep Step(Quest run, string detail) => new()
        {
            QuestId = quest.Id, At = DateTimeOffset.UtcNow, Kind = QuestStepKinds.ProviderCall, Run = run.Attempts, Attempt = 1, DurationMs = 12,
            HttpStatus = 200, Detail = detail, Circuit = "closed", Sent = """{"prompt":"x"}""",
        };

        // The run that lost the quest stores neither its images nor its steps.
        Assert.Null(await WithTransitions(t => t.SucceedAsync(first, [Image(first, 0)], null, TimeSpan.Zero, null, [Step(first, "lost")], Token)));
        var images = new[] { Image(second, 0), Image(second, 1) };
        var succeeded = await WithTransitions(t => t.SucceedAsync(second, images, 4, TimeSpan.FromSeconds(1), 7,
            [Step(second, "call one"), Step(second, "call two")], Token));
        Assert.Equal(QuestStatus.Succeeded, succeeded!.Status);

        await using var db = postgres.CreateContext();
        Assert.Equal(images.Select(i => i.Id).Order(), (await db.QuestImages.Where(i => i.QuestId == quest.Id).Select(i => i.Id).ToListAsync(Token)).Order());
        var timeline = await db.QuestSteps.Where(s => s.QuestId == quest.Id && s.Run == second.Attempts).OrderBy(s => s.Id).ToListAsync(Token);
        Assert.Equal(["call one", "call two", "Succeeded"], timeline.Where(s => s.Kind != QuestStepKinds.Started).Select(s => s.Detail));
        Assert.Equal((200, 12, "closed"), (timeline[^2].HttpStatus!.Value, timeline[^2].DurationMs!.Value, timeline[^2].Circuit));
        Assert.Contains("prompt", timeline[^2].Sent);
        Assert.DoesNotContain(await db.QuestSteps.Where(s => s.QuestId == quest.Id).ToListAsync(Token), s => s.Detail == "lost");
        Assert.Equal(96, await BalanceAsync(quest.UserId));
    }

    [Fact]
    public async Task The_reconciler_ending_a_quest_while_its_worker_succeeds_settles_it_once()
    {
        for (var round = 0; round < 10; round++)
        {
            var quest = await RunningQuestAsync(cost: 5);
            var succeed = WithTransitions(t => t.SucceedAsync(quest, [Image(quest, 0)], null, TimeSpan.Zero, null, [], Token));
            var end = WithTransitions(t => t.EndUnfinishedAsync(quest.Id, QuestStatus.TimedOut, ErrorCodes.TimedOut, "too late", Token));
            await Task.WhenAll(succeed, end);

            Assert.True((await succeed is null) ^ (await end is null));
            await using var db = postgres.CreateContext();
            Assert.Single(await db.CreditEntries.Where(e => e.QuestId == quest.Id && (e.Kind == CreditEntryKind.Capture || e.Kind == CreditEntryKind.Release)).ToListAsync(Token));
            Assert.Equal(await succeed is null ? 100 : 95, await BalanceAsync(quest.UserId));
        }
    }

    [Fact]
    public async Task Lapsed_runs_go_back_to_the_queue_and_a_handed_back_quest_waits_again()
    {
        var lapsed = await QueuedQuestAsync(cost: 5);
        await WithTransitions(t => t.ClaimAsync(lapsed.Id, TimeSpan.FromSeconds(-1), 3, "gone", Token));
        Assert.True(await WithTransitions(t => t.RequeueLapsedAsync(DateTimeOffset.UtcNow, Token)) >= 1);
        var requeued = await ReadAsync(lapsed.Id);
        Assert.Equal(QuestStatus.Queued, requeued.Status);
        Assert.Equal(QuestStatusTexts.Waiting, requeued.StatusText);
        Assert.Contains(await StepsAsync(lapsed.Id), s => s.Kind == QuestStepKinds.Requeued);

        var running = await RunningQuestAsync(cost: 5);
        var handedBack = await WithTransitions(t => t.HandBackAsync(running.Id, running.Attempts, [], Token));
        Assert.Equal(QuestStatus.Queued, handedBack!.Status);
        Assert.Equal(95, await BalanceAsync(running.UserId));
        Assert.Null(await WithTransitions(t => t.HandBackAsync(running.Id, running.Attempts, [], Token)));
    }

    [Fact]
    public async Task A_quest_started_as_often_as_allowed_is_not_started_again()
    {
        var quest = await QueuedQuestAsync(cost: 5);
        for (var run = 0; run < 2; run++)
        {
            Assert.IsType<ClaimOutcome.Claimed>(await WithTransitions(t => t.ClaimAsync(quest.Id, TimeSpan.FromSeconds(-1), 2, "w", Token)));
        }

        Assert.IsType<ClaimOutcome.Exhausted>(await WithTransitions(t => t.ClaimAsync(quest.Id, Lease, 2, "w", Token)));
    }

    [Fact]
    public async Task Workers_claiming_one_owners_quests_at_once_never_run_more_than_the_owners_share()
    {
        var user = await NewUserAsync(1000);
        var quests = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            quests.Add(Assert.IsType<SubmitOutcome.Accepted>(await SubmitAsync(user, cost: 5)).Quest.Id);
        }

        // Twelve workers, each taking a different quest of the same owner at the same moment; the share is 4.
        var claims = await Task.WhenAll(quests.Select((id, i) => Task.Run(() => WithTransitions(t => t.ClaimAsync(id, Lease, 3, $"worker-{i}", Token, maxRunningPerOwner: 4)))));

        Assert.Equal(4, claims.Count(c => c is ClaimOutcome.Claimed));
        Assert.All(claims.Where(c => c is not ClaimOutcome.Claimed), c => Assert.IsType<ClaimOutcome.OwnerBusy>(c));
        await using var db = postgres.CreateContext();
        Assert.Equal(4, await db.Quests.CountAsync(q => q.UserId == user && q.Status == QuestStatus.Running, Token));
    }
}
