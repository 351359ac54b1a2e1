using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Storage;

/// <summary>What an account keeps in the image store, and the life of its uploads: used by a quest, or expired unused.</summary>
public static class UploadRecords
{
    /// <summary>Bytes the account keeps: its uploads and its images not deleted.</summary>
    public static async Task<long> StoredBytesAsync(this ImageGenDbContext db, Guid userId, CancellationToken cancellationToken) =>
        (await db.Uploads.Where(u => u.UserId == userId).SumAsync(u => (long?)u.Bytes, cancellationToken) ?? 0)
        + (await db.QuestImages.Where(i => i.UserId == userId && i.DeletedAt == null).SumAsync(i => (long?)i.Bytes, cancellationToken) ?? 0);

    /// <summary>Marks the account's uploads among <paramref name="ids"/> as used by a quest: they no longer expire.</summary>
    public static Task<int> MarkUploadsUsedAsync(this ImageGenDbContext db, Guid userId, IReadOnlyCollection<Guid> ids, DateTimeOffset at, CancellationToken cancellationToken) =>
        ids.Count == 0
            ? Task.FromResult(0)
            : db.Uploads.Where(u => u.UserId == userId && ids.Contains(u.Id) && u.UsedAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.UsedAt, at), cancellationToken);

    /// <summary>Whether a quest of the account that has not ended yet takes this upload as an input.</summary>
    public static Task<bool> UploadInUseAsync(this ImageGenDbContext db, Guid userId, Guid uploadId, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<bool>($"""
            SELECT EXISTS (SELECT 1 FROM quests
                           WHERE user_id = {userId} AND status IN ('Queued', 'Running')
                             AND inputs @> jsonb_build_array(jsonb_build_object('id', {uploadId.ToString()}))) AS "Value"
            """).SingleAsync(cancellationToken);

    /// <summary>
    /// Removes up to <paramref name="limit"/> uploads that no quest used and that were made before <paramref name="cutoff"/>,
    /// and returns their storage keys for the caller to delete. Instances sweeping at once take different rows.
    /// </summary>
    public static Task<List<string>> TakeExpiredUploadsAsync(this ImageGenDbContext db, DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<string>($"""
            DELETE FROM uploads WHERE id IN (
                SELECT id FROM uploads WHERE used_at IS NULL AND created_at < {cutoff}
                ORDER BY created_at LIMIT {limit} FOR UPDATE SKIP LOCKED)
            RETURNING storage_key AS "Value"
            """).ToListAsync(cancellationToken);
}
