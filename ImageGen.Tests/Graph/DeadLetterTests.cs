using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Graph;

/// <summary>
/// What the workers cannot finish goes to the dead letters, for an operator: an entry naming no quest, and a quest that
/// fails every worker that runs it. Each touches only its own entry and quest, so these run beside the other classes.
/// </summary>
public sealed class DeadLetterTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_unreadable_stream_entry_is_dead_lettered_for_an_operator()
    {
        await using var redis = await graph.ConnectRedisAsync();
        var poison = (await redis.GetDatabase().StreamAddAsync(QueueNames.QuestStream, QueueNames.Fields.QuestId, "not-a-quest-id")).ToString();

        string? entryId = null;
        await Eventually.TrueAsync(async () =>
        {
            using var response = await graph.Admin.Client.GetAsync("/api/admin/dead-letters", Token);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(Token);
            entryId = body.EnumerateArray()
                .Where(e => e.GetProperty("originalEntryId").GetString() == poison && e.GetProperty("reason").GetString() == "malformed")
                .Select(e => e.GetProperty("entryId").GetString()).FirstOrDefault();
            return entryId is not null;
        });

        // Nothing to re-drive: it named no quest.
        using var redrive = await graph.Admin.Client.PostAsync($"/api/admin/dead-letters/{entryId}/redrive", null, Token);
        await ProblemAssert.IsProblemAsync(redrive, HttpStatusCode.NotFound, ErrorCodes.DeadLetterNotFound);
        using var asUser = await (await graph.CreateUserAsync(Token)).Client.GetAsync("/api/admin/dead-letters", Token);
        Assert.Equal(HttpStatusCode.Forbidden, asUser.StatusCode);
    }

    [Fact]
    public async Task A_quest_that_crashes_every_worker_is_given_up_after_max_deliveries_and_an_operator_can_redrive_it()
    {
        using var user = await graph.CreateUserAsync(Token);
        var prompt = $"poison {Guid.NewGuid():N}";
        await using var db = await graph.ConnectDatabaseAsync();
        // A fault only this quest meets: storing its success fails, as a constraint bug would, so every worker that
        // runs it throws after rendering and never acknowledges it.
        var trigger = $"""
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
            CREATE TRIGGER refuse_poison BEFORE UPDATE ON quests FOR EACH ROW
                WHEN (NEW.prompt = '{prompt}' AND NEW.status = 'Succeeded') EXECUTE FUNCTION refuse_poison();
            """;
        await db.Database.ExecuteSqlRawAsync(trigger, Token);
        QuestDto ended;
        try
        {
            ended = await graph.SubmitAndWaitAsync(user, new { prompt, model = "local-sketch", width = 64, height = 64 }, Token);
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_poison ON quests; DROP FUNCTION refuse_poison();", CancellationToken.None);
        }

        Assert.Equal((QuestStatus.Failed, ErrorCodes.DeliveryExhausted), (ended.Status, ended.Error?.Code));
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal((100, 0), (credits!.Balance, credits.Reserved));
        Assert.DoesNotContain(credits.Entries, e => e.Kind == CreditEntryKind.Capture);

        // The operator finds it among the dead letters, with the attempts it took, and re-drives it once the fault is gone.
        JsonElement[] letters = [];
        await Eventually.TrueAsync(async () =>
        {
            using var list = await graph.Admin.Client.GetAsync("/api/admin/dead-letters", Token);
            letters = [.. (await list.Content.ReadFromJsonAsync<JsonElement>(Token)).EnumerateArray().Where(e => e.GetProperty("questId").GetString() == ended.Id.ToString())];
            return letters.Length > 0;
        });
        var dead = Assert.Single(letters);
        Assert.Equal(ErrorCodes.DeliveryExhausted, dead.GetProperty("reason").GetString());
        Assert.Equal(3, dead.GetProperty("deliveries").GetInt64());

        using var redrive = await graph.Admin.Client.PostAsync($"/api/admin/dead-letters/{dead.GetProperty("entryId").GetString()}/redrive", null, Token);
        Assert.Equal(HttpStatusCode.Accepted, redrive.StatusCode);
        var again = await graph.WaitForEndAsync(user, (await graph.ReadAsync<QuestDto>(redrive, Token)).Id, Token);
        Assert.Equal(QuestStatus.Succeeded, again.Status);
        Assert.Equal(prompt, again.Prompt);
        credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100 - again.Cost, credits!.Balance);

        // A malformed entry id is a 404, not a server error.
        using var malformed = await graph.Admin.Client.PostAsync("/api/admin/dead-letters/not-an-entry/redrive", null, Token);
        await ProblemAssert.IsProblemAsync(malformed, HttpStatusCode.NotFound, ErrorCodes.DeadLetterNotFound);
    }
}
