using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;

namespace ImageGen.Web.Services;

/// <summary>
/// The one quest a page follows, put together from what arrives in any order: live events, snapshots (the answer to
/// joining, a reconnect, a poll) and preview frames. The rules: only this quest's events count, each newer than the
/// last; a snapshot never moves progress backwards; an end is final; a new frame fades in over the one before.
/// </summary>
public sealed class QuestTracker
{
    private long _lastSequence;

    public QuestDto? Current { get; private set; }

    /// <summary>The latest preview frame (a data URI), and the one before it, which the newest fades in over.</summary>
    public string? Frame { get; private set; }
    public string? PreviousFrame { get; private set; }

    /// <summary>Frames show while the quest runs; once it has ended its image takes their place.</summary>
    public bool ShowsFrames => Current is { } quest && !quest.Status.IsTerminal() && Frame is not null;

    /// <summary>Follows a new quest from its first known state.</summary>
    public void Track(QuestDto quest)
    {
        Current = quest;
        _lastSequence = 0;
        Frame = PreviousFrame = null;
        ShowFrame(quest.Preview);
    }

    /// <summary>Applies a live event; false when it changes nothing (another quest, old news, or the quest has ended).</summary>
    public bool Apply(QuestEvent evt)
    {
        if (Current is not { } current || evt.QuestId != current.Id || evt.Sequence <= _lastSequence || current.Status.IsTerminal())
        {
            return false;
        }

        _lastSequence = evt.Sequence;
        Current = evt.Quest ?? current with { Status = evt.Status, Progress = evt.Progress, StatusText = evt.StatusText, Error = evt.Error };
        ShowFrame(evt.Preview);
        return true;
    }

    /// <summary>Applies a snapshot; false when it is of another quest, older than what is shown, or the quest has ended.</summary>
    public bool Apply(QuestDto snapshot)
    {
        if (Current is not { } current || snapshot.Id != current.Id || current.Status.IsTerminal())
        {
            return false;
        }

        if (!snapshot.Status.IsTerminal() && snapshot.Progress < current.Progress)
        {
            return false;
        }

        Current = snapshot;
        ShowFrame(snapshot.Preview);
        return true;
    }

    private void ShowFrame(string? preview)
    {
        if (preview is not null && preview != Frame)
        {
            PreviousFrame = Frame;
            Frame = preview;
        }
    }
}
