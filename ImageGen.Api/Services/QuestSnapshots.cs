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
/// event (<see cref="QuestEventForwarder"/>), so counting recent endings here needs no query.
/// </summary>
internal sealed class QuestThroughput(TimeProvider time, ModelCatalog catalog)
{
    /// <summary>
    /// Recent enough to be what the workers do now: a waiting quest means they are busy, and a longer window reaches
    /// back into quieter times (the benchmark's queue step: real wait / estimate at p50 0.49 over two minutes, 0.75
    /// over 30 s, 0.87 over 15 s).
    /// </summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(15);

    private readonly ConcurrentQueue<(DateTimeOffset At, string Provider)> _endings = new();

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
    /// window, counted from the first of them (at least 5 s), so a busy spell after a quiet one is not diluted by it;
    /// null when none ended.
    /// </summary>
    public double? PerSecond(string? provider = null)
    {
        Prune();
        var now = time.GetUtcNow();
        var endings = _endings.Where(e => provider is null || e.Provider == provider).Select(e => e.At).ToList();
        return endings.Count == 0 ? null : endings.Count / Math.Max(5, (now - endings[0]).TotalSeconds);
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
/// The waiting queue as this API instance last read it (<see cref="QueuePlaces.WaitingQueueAsync"/>), read again when a
/// second old: with 10,000 quests waiting, counting a place from the table took 4.5-8 ms a read; read once a second
/// it costs one such read a second whatever the number of readers, and a place is at most a second behind.
/// </summary>
internal sealed class WaitingQueueCache(TimeProvider time)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _reading = new(1, 1);
    private WaitingQueue? _current;

    public async Task<WaitingQueue> CurrentAsync(ImageGenDbContext db, int maxRunningPerUser, CancellationToken cancellationToken)
    {
        if (Fresh() is { } fresh)
        {
            return fresh;
        }

        await _reading.WaitAsync(cancellationToken);
        try
        {
            return Fresh() ?? (_current = await db.WaitingQueueAsync(maxRunningPerUser, time.GetUtcNow(), cancellationToken));
        }
        finally
        {
            _reading.Release();
        }
    }

    private WaitingQueue? Fresh() => _current is { } queue && time.GetUtcNow() - queue.At < MaxAge ? queue : null;
}

/// <summary>
/// A quest as its owner reads it now: signed links, the latest preview frame of a running one, and for a queued one
/// its place in the queue under the fair-share rule (<see cref="QueuePlaces"/>) and when it should start: the quests
/// ahead of it on its provider at the rate that provider's quests have been ending (any provider's, before one has).
/// </summary>
internal sealed class QuestSnapshots(ImageUrlSigner signer, QuestPreviews previews, QuestThroughput throughput, WaitingQueueCache queue,
    ModelCatalog catalog, IConfiguration configuration)
{
    private readonly int _maxRunningPerUser = configuration.GetValue("Worker:MaxRunningPerUser", FairShare.DefaultMaxRunningPerUser);

    /// <summary>Each provider's models (by <see cref="ModelCatalog.ProviderTag"/>), worked out once rather than on every read.</summary>
    private readonly Dictionary<string, HashSet<string>> _modelsByProvider = catalog.All
        .GroupBy(m => catalog.ProviderTag(m.Id))
        .ToDictionary(g => g.Key, g => g.Select(m => m.Id).ToHashSet(StringComparer.Ordinal));

    public async Task<QuestDto> ForAsync(Quest quest, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var dto = await quest.ToDtoWithPreviewAsync(signer, previews);
        if (quest.Status != QuestStatus.Queued)
        {
            return dto;
        }

        var provider = catalog.ProviderTag(quest.Model);
        var sameProvider = _modelsByProvider.GetValueOrDefault(provider) ?? [quest.Model];
        var own = await db.OwnAheadAsync(quest, sameProvider, cancellationToken);
        var waiting = await queue.CurrentAsync(db, _maxRunningPerUser, cancellationToken);
        var place = waiting.PlaceOf(quest, own, sameProvider, _maxRunningPerUser);
        var estimate = throughput.PerSecond(provider) is { } rate ? (place.AheadOnProvider + 1) / rate
            : throughput.PerSecond() is { } anyRate ? (place.Ahead + 1) / anyRate
            : (double?)null;
        return dto with { QueuePosition = place.Ahead, EstimatedStartSeconds = estimate is { } seconds ? (int)Math.Ceiling(seconds) : null };
    }
}
