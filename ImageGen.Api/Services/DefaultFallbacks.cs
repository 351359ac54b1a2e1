using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace ImageGen.Api.Services;

/// <summary>
/// An account's default fallback models (off unless set): a new image whose request names no fallbacks takes those of
/// them that accept the request as it is, the quest's own model left out. Read once per <see cref="Keep"/> per user and
/// API instance, so a change reaches every instance within that; the instance that saved it knows at once.
/// </summary>
internal sealed class DefaultFallbacks(IServiceScopeFactory scopes, ModelCatalog catalog) : IDisposable
{
    public static readonly TimeSpan Keep = TimeSpan.FromSeconds(30);

    /// <summary>At most this many accounts' settings are held; the least recently read go first.</summary>
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    public void Dispose() => cache.Dispose();

    /// <summary>The request with the account's fallbacks applied where it names none and is a new image (not an edit or a follow-up).</summary>
    public async Task<CreateQuestRequest> ApplyAsync(Guid ownerId, CreateQuestRequest request, CancellationToken cancellationToken)
    {
        if (request.Fallbacks is not null || request.Images is { Count: > 0 } || request.Action is not null || request.Model is null)
        {
            return request;
        }

        var models = await ModelsAsync(ownerId, cancellationToken);
        if (models.Count == 0)
        {
            return request;
        }

        var usable = models
            .Where(m => m != request.Model && QuestValidator.Validate(catalog, request with { Model = m, Fallbacks = null }, out _, static () => 0).Count == 0)
            .Take(QuestValidator.MaxFallbacks).ToList();
        return usable.Count == 0 ? request : request with { Fallbacks = usable };
    }

    /// <summary>The account's default fallbacks as saved (empty when off).</summary>
    public async Task<IReadOnlyList<string>> ModelsAsync(Guid ownerId, CancellationToken cancellationToken) =>
        await cache.GetOrCreateAsync(Key(ownerId), async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = Keep;
            entry.Size = 1;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
            return (IReadOnlyList<string>?)await db.Users.AsNoTracking().Where(u => u.Id == ownerId).Select(u => u.DefaultFallbacks).FirstOrDefaultAsync(cancellationToken) ?? [];
        }) ?? [];

    /// <summary>Forgets what this instance read, after the owner changed it.</summary>
    public void Forget(Guid ownerId) => cache.Remove(Key(ownerId));

    private static string Key(Guid ownerId) => $"default-fallbacks:{ownerId:N}";
}
