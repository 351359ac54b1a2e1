using System.Text.Json;
using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Database;

/// <summary>
/// The transitions read the quests their statements return without EF (<see cref="Statements"/>): what they read must
/// be what EF reads, column for column, or a worker would run a quest with a field lost.
/// </summary>
[Collection(DatabaseCollection.Name)]
public sealed class StatementsTests(ThrowawayPostgres postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_quest_read_by_its_statement_equals_the_quest_EF_reads_in_every_mapped_column()
    {
        var quest = await StoreQuestWithEveryColumnSetAsync();
        await using var db = postgres.CreateContext();
        var byEf = await db.Quests.AsNoTracking().SingleAsync(q => q.Id == quest, Token);
        var byStatement = Assert.Single(await db.QuestsAsync($"SELECT * FROM quests WHERE id = {quest}", Token));
        AssertSameInEveryColumn(db, byEf, byStatement);
    }

    [Fact]
    public async Task A_quest_written_by_its_statement_reads_back_by_EF_in_every_mapped_column()
    {
        await using var db = postgres.CreateContext();
        var user = ThrowawayPostgres.NewUser("statements-insert");
        db.Users.Add(user);
        await db.SaveChangesAsync(Token);
        var written = QuestWithEveryColumnSet(user.Id);

        Assert.Equal([written.Id], await db.ValuesAsync<Guid>($"{QuestRow.Insert(written)} RETURNING id", Token));
        var byEf = await db.Quests.AsNoTracking().SingleAsync(q => q.Id == written.Id, Token);
        AssertSameInEveryColumn(db, written, byEf);
    }

    /// <summary>Every column of EF's model holds the same value in both (each set in the first: a forgotten column cannot pass as a default).</summary>
    private static void AssertSameInEveryColumn(ImageGenDbContext db, Quest expectedQuest, Quest actualQuest)
    {
        var columns = db.Model.FindEntityType(typeof(Quest))!.GetProperties().ToList();
        Assert.True(columns.Count >= 29, $"the quest has {columns.Count} mapped columns");
        foreach (var column in columns)
        {
            var expected = column.PropertyInfo!.GetValue(expectedQuest);
            // The stored quest sets every column, so a column the reader forgets cannot pass as an equal default.
            Assert.False(expected is null || expected.Equals(Activator.CreateInstance(column.ClrType.IsValueType ? column.ClrType : typeof(object))),
                $"the test's quest leaves {column.Name} at its default");
            Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(column.PropertyInfo.GetValue(actualQuest)));
        }
    }

    [Fact]
    public async Task Values_are_parameters_never_text_of_the_statement()
    {
        var quest = await StoreQuestWithEveryColumnSetAsync();
        await using var db = postgres.CreateContext();
        // A value that would end the statement early if it were pasted into the SQL.
        var hostile = "x'; UPDATE quests SET cost = 0; --";
        Assert.Empty(await db.ValuesAsync<Guid>($"SELECT id FROM quests WHERE id = {quest} AND prompt = {hostile}", Token));
        Assert.Equal([quest], await db.ValuesAsync<Guid>($"SELECT id FROM quests WHERE id = {quest} AND cost = {7}", Token));
        Assert.Equal([(string?)null], await db.ValuesAsync<string?>($"SELECT {(string?)null}::text", Token));
    }

    private async Task<Guid> StoreQuestWithEveryColumnSetAsync()
    {
        await using var db = postgres.CreateContext();
        var user = ThrowawayPostgres.NewUser("statements");
        db.Users.Add(user);
        var quest = QuestWithEveryColumnSet(user.Id);
        db.Quests.Add(quest);
        await db.SaveChangesAsync(Token);
        return quest.Id;
    }

    private static Quest QuestWithEveryColumnSet(Guid userId)
    {
        // Whole milliseconds: Postgres keeps a time to the microsecond, and one read back must equal the one written.
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return new Quest
        {
            Id = Guid.CreateVersion7(),
            UserId = userId,
            Prompt = "a lighthouse at dusk",
            Model = "flux-dev",
            RequestedModel = "gpt-image-1-mini",
            Width = 640,
            Height = 480,
            Seed = 1234567890123,
            Parameters = new QuestParameters { Width = 640, Height = 480, Seed = 1234567890123, SafetyTolerance = 2, Images = [Guid.NewGuid()], Mask = Guid.NewGuid() },
            Cost = 7,
            Charged = 5,
            Status = QuestStatus.Running,
            Progress = 0.5,
            StatusText = "Now painting...",
            CreatedAt = now.AddMinutes(-3),
            StartedAt = now.AddMinutes(-2),
            CompletedAt = now.AddMinutes(-1),
            ErrorCode = "provider_error",
            ErrorMessage = "It broke.",
            EnqueuedAt = now.AddMinutes(-4),
            LeaseUntil = now.AddMinutes(1),
            CancelRequested = true,
            Attempts = 2,
            GenerationMilliseconds = 1500,
            ProviderJobId = "job-1",
            ProviderPollingUrl = "https://api.bfl.ai/v1/get_result?id=job-1",
            ProviderCost = 3,
            BillableSince = now.AddMinutes(-2),
            ApiKeyId = Guid.NewGuid(),
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            Inputs = [new QuestInput(Guid.NewGuid(), "uploads/a.png", "image/png", 640, 480), new QuestInput(Guid.NewGuid(), "uploads/m.png", "image/png", 640, 480, IsMask: true, JobId: "grid-1")],
            WebhookUrl = "https://hooks.example/imagegen",
            WebhookEvents = WebhookEvents.Completed | WebhookEvents.Progress,
            Descriptions = ["a harbour at dawn", "boats in fog"],
        };
    }
}
