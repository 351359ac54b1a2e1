using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data;

public static class QuestQueries
{
    /// <summary>
    /// A quest with its images, read-only; with <paramref name="ownerId"/>, only if that user owns it (another user's
    /// quest reads exactly as a missing one).
    /// </summary>
    public static Task<Quest?> FindWithImagesAsync(this ImageGenDbContext db, Guid questId, Guid? ownerId, CancellationToken cancellationToken) =>
        db.Quests.AsNoTracking().Include(q => q.Images)
            .FirstOrDefaultAsync(q => q.Id == questId && (ownerId == null || q.UserId == ownerId), cancellationToken);
}
