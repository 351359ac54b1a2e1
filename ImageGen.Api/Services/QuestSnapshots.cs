using System.Collections.Concurrent;
using ImageGen.Api.Apis;
using ImageGen.Api.Images;
using ImageGen.Core.Catalog;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;
using ImageGen.Data.Queue;
using ImageGen.Data.Quests;

namespace ImageGen.Api.Services;

/// <summary>
/// How fast quests end, fleet-wide and per provider, as this API instance sees it: every instance receives every quest
/// event (<see cref="QuestEventForwarder"/>), so counting the endings of the last two minutes here needs no query.
/// </summary>
internal sealed class QuestThroughput(TimeProvider time, ModelCatalog catalog)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(2);
    private readonly ConcurrentQueue<(DateTimeOffset At, string Provider)> _endings = new();
    private readonly DateTimeOffset _since = time.GetUtcNow();

    public void Observe(QuestEvent evt)
    {
        if (evt.Status.IsTerminal())
        {
            _endings.Enqueue((time.GetUtcNow(), evt.Quest is { } quest ? catalog.ProviderTag(quest.Model) : ""));
            Prune();
        }
    }

    /// <summary>
    /// Quests of the provider (as <see cref="ModelCatalog.ProviderTag"/> names it; null: of any) ended per second over the
    /// last two minutes, or since this instance started if later; null before any ended.
    /// </summary>
    public double? PerSecond(string? provider = null)
    {
        Prune();
        var now = time.GetUtcNow();
        var span = Math.Max(5, Math.Min(Window.TotalSeconds, (now - _since).TotalSeconds));
        var count = provider is null ? _endings.Count : _endings.Count(e => e.Provider == provider);
        return count == 0 ? null : count / span;
    }

    private void Prune()
    {
        var oldest = time.GetUtcNow() - Window;
        while (_endings.TryPeek(out var ending) && ending.At < oldest)
        {
            _endings.TryDequeue(out _);
        }
    }
}

/// <summary>
/// A quest as its owner reads it now: signed links, the latest preview frame of a running one, and for a queued one
/// its place in the queue under the fair-share rule (<see cref="QueuePlaces"/>) and when it should start: the quests
/// ahead of it on its provider at the rate that provider's quests have been ending (any provider's, before one has).
/// </summary>
internal sealed class QuestSnapshots(ImageUrlSigner signer, QuestPreviews previews, QuestThroughput throughput, ModelCatalog catalog, IConfiguration configuration,
    TimeProvider time)
{
    private readonly int _maxRunningPerUser = configuration.GetValue("Worker:MaxRunningPerUser", FairShare.DefaultMaxRunningPerUser);

    public async Task<QuestDto> ForAsync(Quest quest, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var dto = await quest.ToDtoWithPreviewAsync(signer, previews);
        if (quest.Status != QuestStatus.Queued)
        {
            return dto;
        }

        var provider = catalog.ProviderTag(quest.Model);
        var sameProvider = catalog.All.Where(m => catalog.ProviderTag(m.Id) == provider).Select(m => m.Id).ToList();
        var place = await db.OfAsync(quest, sameProvider, _maxRunningPerUser, time.GetUtcNow(), cancellationToken);
        var estimate = throughput.PerSecond(provider) is { } rate ? (place.AheadOnProvider + 1) / rate
            : throughput.PerSecond() is { } anyRate ? (place.Ahead + 1) / anyRate
            : (double?)null;
        return dto with { QueuePosition = place.Ahead, EstimatedStartSeconds = estimate is { } seconds ? (int)Math.Ceiling(seconds) : null };
    }
}
