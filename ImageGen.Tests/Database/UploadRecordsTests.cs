using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.Data.Storage;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Database;

/// <summary>The life of uploads in Postgres: what expires, what a running quest holds, what counts against the quota.</summary>
[Collection(DatabaseCollection.Name)]
public sealed class UploadRecordsTests(ThrowawayPostgres postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Only_uploads_no_quest_used_expire_after_their_lifetime_and_parallel_sweeps_take_each_once()
    {
        var user = await NewUserAsync();
        var expired = Enumerable.Range(0, 30).Select(i => NewUpload(user, Now.AddHours(-25).AddSeconds(i))).ToList();
        var used = NewUpload(user, Now.AddHours(-30));
        used.UsedAt = Now.AddHours(-29);
        var recent = NewUpload(user, Now.AddHours(-2));
        await using (var db = postgres.CreateContext())
        {
            db.Uploads.AddRange([.. expired, used, recent]);
            await db.SaveChangesAsync(Token);
        }

        // Three sweeps at once, in batches of 7: every expired upload is taken exactly once.
        var taken = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
        {
            var keys = new List<string>();
            await using var db = postgres.CreateContext();
            while (await db.TakeExpiredUploadsAsync(Now.AddHours(-24), 7, Token) is { Count: > 0 } batch)
            {
                keys.AddRange(batch);
            }

            return keys;
        }));

        var all = taken.SelectMany(k => k).Where(k => expired.Any(e => e.StorageKey == k) || k == used.StorageKey || k == recent.StorageKey).ToList();
        Assert.Equal(expired.Select(e => e.StorageKey).Order(), all.Order());
        await using var check = postgres.CreateContext();
        Assert.Equal([recent.Id, used.Id], (await check.Uploads.Where(u => u.UserId == user).Select(u => u.Id).ToListAsync(Token)).Order().Reverse());
    }

    [Fact]
    public async Task An_upload_is_in_use_while_a_quest_taking_it_has_not_ended_and_marked_used_once_taken()
    {
        var user = await NewUserAsync();
        var upload = NewUpload(user, Now);
        var quest = new Quest
        {
            Id = Guid.CreateVersion7(), UserId = user, Prompt = "edit", Model = "local-sketch", Width = 64, Height = 64,
            Parameters = new QuestParameters { Width = 64, Height = 64 }, Cost = 1,
            Inputs = [new QuestInput(upload.Id, upload.StorageKey, upload.ContentType, 64, 64)],
        };
        await using (var db = postgres.CreateContext())
        {
            db.Uploads.Add(upload);
            db.Quests.Add(quest);
            await db.SaveChangesAsync(Token);
            Assert.True(await db.UploadInUseAsync(user, upload.Id, Token));
            Assert.False(await db.UploadInUseAsync(Guid.NewGuid(), upload.Id, Token));
            Assert.Equal(1, await db.MarkUploadsUsedAsync(user, [upload.Id], Now, Token));
            Assert.Equal(0, await db.MarkUploadsUsedAsync(user, [upload.Id], Now.AddMinutes(1), Token));
            await db.Quests.Where(q => q.Id == quest.Id).ExecuteUpdateAsync(q => q.SetProperty(x => x.Status, QuestStatus.Succeeded), Token);
            Assert.False(await db.UploadInUseAsync(user, upload.Id, Token));
        }
    }

    [Fact]
    public async Task Stored_bytes_count_uploads_and_images_not_deleted()
    {
        var user = await NewUserAsync();
        await using var db = postgres.CreateContext();
        Assert.Equal(0, await db.StoredBytesAsync(user, Token));
        var quest = new Quest { Id = Guid.CreateVersion7(), UserId = user, Prompt = "p", Model = "local-sketch", Width = 64, Height = 64, Parameters = new(), Cost = 1 };
        db.Quests.Add(quest);
        db.Uploads.Add(NewUpload(user, Now, bytes: 1_000));
        db.QuestImages.Add(Image(quest, 0, 300, deleted: false));
        db.QuestImages.Add(Image(quest, 1, 50_000, deleted: true));
        await db.SaveChangesAsync(Token);
        Assert.Equal(1_300, await db.StoredBytesAsync(user, Token));
    }

    private static Upload NewUpload(Guid user, DateTimeOffset createdAt, long bytes = 100)
    {
        var id = Guid.CreateVersion7(createdAt);
        return new Upload { Id = id, UserId = user, StorageKey = $"uploads/{id:N}.png", ContentType = "image/png", Width = 64, Height = 64, Bytes = bytes, CreatedAt = createdAt };
    }

    private static QuestImage Image(Quest quest, int index, long bytes, bool deleted) => new()
    {
        Id = Guid.CreateVersion7(), QuestId = quest.Id, UserId = quest.UserId, Index = index, Width = 64, Height = 64, ContentType = "image/png",
        Bytes = bytes, StorageKey = $"images/{Guid.NewGuid():N}.png", Checksum = "x", CreatedAt = Now, DeletedAt = deleted ? Now : null,
    };

    private async Task<Guid> NewUserAsync()
    {
        await using var db = postgres.CreateContext();
        var user = ThrowawayPostgres.NewUser("uploads");
        db.Users.Add(user);
        await db.SaveChangesAsync(Token);
        return user.Id;
    }
}
