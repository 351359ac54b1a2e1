using System.Collections.Concurrent;
using System.Collections.Immutable;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;

namespace ImageGen.Api.Services;

/// <summary>
/// Lets a request wait for a quest to end (the OpenAI-compatible calls, <c>Prefer: wait</c>). The end is learned from
/// the terminal event every API instance receives (<see cref="QuestEventForwarder"/>), and checked in Postgres before
/// waiting and every <see cref="RecheckEvery"/> while waiting, so a lost pub/sub message costs a little time, never
/// a hang. Every wait is bounded by its caller.
/// </summary>
internal sealed class QuestWaiters
{
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _waiting = new();
    private readonly ConcurrentDictionary<Guid, ImmutableList<Action<string>>> _frames = new();

    /// <summary>Called for every event this instance receives.</summary>
    public void Observe(QuestEvent evt)
    {
        if (evt.Preview is { } preview && _frames.TryGetValue(evt.QuestId, out var watchers))
        {
            foreach (var watcher in watchers)
            {
                watcher(preview);
            }
        }

        if (evt.Status.IsTerminal() && _waiting.TryRemove(evt.QuestId, out var ended))
        {
            ended.TrySetResult();
        }
    }

    /// <summary>Calls <paramref name="onFrame"/> with each preview frame of the quest this instance receives, until disposed.</summary>
    public IDisposable WatchFrames(Guid questId, Action<string> onFrame)
    {
        _frames.AddOrUpdate(questId, _ => [onFrame], (_, list) => list.Add(onFrame));
        return new Unwatch(() =>
        {
            while (_frames.TryGetValue(questId, out var list))
            {
                var rest = list.Remove(onFrame);
                if (rest.IsEmpty ? _frames.TryRemove(new KeyValuePair<Guid, ImmutableList<Action<string>>>(questId, list)) : _frames.TryUpdate(questId, rest, list))
                {
                    return;
                }
            }
        });
    }

    private sealed class Unwatch(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>The quest once it has ended, or as it stands when <paramref name="within"/> has passed.</summary>
    public async Task<Quest?> WaitForEndAsync(ImageGenDbContext db, Guid questId, Guid ownerId, TimeSpan within, CancellationToken cancellationToken)
    {
        // Several requests may wait on one quest (a retry joining the first). The terminal event removes the entry;
        // a wait that sees the end in Postgres first removes it itself.
        var ended = _waiting.GetOrAdd(questId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(within);
        while (true)
        {
            var quest = await db.FindWithImagesAsync(questId, ownerId, cancellationToken);
            if (quest is null || quest.Status.IsTerminal())
            {
                _waiting.TryRemove(new KeyValuePair<Guid, TaskCompletionSource>(questId, ended));
                return quest;
            }

            if (deadline.IsCancellationRequested)
            {
                return quest;
            }

            try
            {
                await ended.Task.WaitAsync(RecheckEvery, deadline.Token);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }
}
