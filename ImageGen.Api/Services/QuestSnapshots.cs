using System.Collections.Concurrent;
using ImageGen.Api.Apis;
using ImageGen.Api.Images;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;
using ImageGen.Data.Queue;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Services;

/// <summary>
/// How fast quests end, fleet-wide, as this API instance sees it: every instance receives every quest event
/// (<see cref="QuestEventForwarder"/>), so counting the endings of the last two minutes here needs no query.
/// </summary>
internal sealed class QuestThroughput(TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(2);
    private readonly ConcurrentQueue<DateTimeOffset> _endings = new();
    private readonly DateTimeOffset _since = time.GetUtcNow();

    public void Observe(QuestEvent evt)
    {
        if (evt.Status.IsTerminal())
        {
            _endings.Enqueue(time.GetUtcNow());
            Prune();
        }
    }

    /// <summary>Quests ended per second over the last two minutes (or since this instance started, if later); null before any ended.</summary>
    public double? PerSecond
    {
        get
        {
            Prune();
            var now = time.GetUtcNow();
            var span = Math.Max(5, Math.Min(Window.TotalSeconds, (now - _since).TotalSeconds));
            return _endings.IsEmpty ? null : _endings.Count / span;
        }
    }

    private void Prune()
    {
        var oldest = time.GetUtcNow() - Window;
        while (_endings.TryPeek(out var at) && at < oldest)
        {
            _endings.TryDequeue(out _);
        }
    }
}

/// <summary>
/// A quest as its owner reads it now: signed links, the latest preview frame of a running one, and for a queued one
/// its place in the queue (quests submitted before it that still wait, counted on the queued-quests index) and when it
/// should start at the rate quests have been ending.
/// </summary>
internal sealed class QuestSnapshots(ImageUrlSigner signer, QuestPreviews previews, QuestThroughput throughput)
{
    public async Task<QuestDto> ForAsync(Quest quest, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var dto = await quest.ToDtoWithPreviewAsync(signer, previews);
        if (quest.Status != QuestStatus.Queued)
        {
            return dto;
        }

        var (createdAt, id) = (quest.CreatedAt, quest.Id);
        var ahead = await db.Quests.CountAsync(q => q.Status == QuestStatus.Queued
            && EF.Functions.LessThan(ValueTuple.Create(q.CreatedAt, q.Id), ValueTuple.Create(createdAt, id)), cancellationToken);
        int? estimate = throughput.PerSecond is { } rate && rate > 0 ? (int)Math.Ceiling((ahead + 1) / rate) : null;
        return dto with { QueuePosition = ahead, EstimatedStartSeconds = estimate };
    }
}
