using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Web.Services;

namespace ImageGen.Tests.Unit;

/// <summary>
/// What the home page shows of the quest it follows, whatever order events, snapshots and frames arrive in: never an
/// older state over a newer one, never anything after the end, and frames that only move forward.
/// </summary>
public sealed class QuestTrackerTests
{
    private static readonly Guid QuestId = Guid.CreateVersion7();

    [Fact]
    public void Events_apply_in_sequence_and_a_late_or_repeated_one_is_ignored()
    {
        var tracker = Tracking();

        Assert.True(tracker.Apply(Event(2, 0.25)));
        Assert.False(tracker.Apply(Event(1, 0.125)));
        Assert.False(tracker.Apply(Event(2, 0.25)));
        Assert.True(tracker.Apply(Event(3, 0.375)));

        Assert.Equal((QuestStatus.Running, 0.375), (tracker.Current!.Status, tracker.Current.Progress));
    }

    [Fact]
    public void Another_quests_events_and_snapshots_change_nothing()
    {
        var tracker = Tracking();

        Assert.False(tracker.Apply(Event(5, 0.9) with { QuestId = Guid.CreateVersion7() }));
        Assert.False(tracker.Apply(Quest(QuestStatus.Succeeded, 1) with { Id = Guid.CreateVersion7() }));
        Assert.Equal(QuestStatus.Queued, tracker.Current!.Status);
    }

    [Fact]
    public void A_snapshot_never_moves_progress_back_and_an_end_is_final()
    {
        var tracker = Tracking();
        tracker.Apply(Event(4, 0.5));

        Assert.False(tracker.Apply(Quest(QuestStatus.Running, 0.25)));
        Assert.Equal(0.5, tracker.Current!.Progress);

        Assert.True(tracker.Apply(Quest(QuestStatus.Failed, 0.5)));
        Assert.False(tracker.Apply(Event(9, 0.75)));
        Assert.False(tracker.Apply(Quest(QuestStatus.Running, 0.9)));
        Assert.Equal(QuestStatus.Failed, tracker.Current!.Status);
    }

    [Fact]
    public void Each_new_frame_fades_in_over_the_last_and_frames_go_once_it_ends()
    {
        var tracker = Tracking();
        Assert.False(tracker.ShowsFrames);

        tracker.Apply(Event(1, 0.125) with { Preview = "data:image/webp;base64,AAA" });
        tracker.Apply(Event(2, 0.25));
        Assert.Equal(("data:image/webp;base64,AAA", (string?)null), (tracker.Frame, tracker.PreviousFrame));

        tracker.Apply(Event(3, 0.375) with { Preview = "data:image/webp;base64,BBB" });
        Assert.Equal(("data:image/webp;base64,BBB", "data:image/webp;base64,AAA"), (tracker.Frame, tracker.PreviousFrame));
        Assert.True(tracker.ShowsFrames);

        tracker.Apply(Event(4, 1) with { Status = QuestStatus.Succeeded });
        Assert.False(tracker.ShowsFrames);
    }

    [Fact]
    public void Following_a_new_quest_starts_afresh_with_its_own_frame()
    {
        var tracker = Tracking();
        tracker.Apply(Event(7, 0.875) with { Preview = "data:image/webp;base64,OLD" });

        var next = Quest(QuestStatus.Running, 0.25) with { Id = Guid.CreateVersion7(), Preview = "data:image/webp;base64,NEW" };
        tracker.Track(next);

        Assert.Equal(("data:image/webp;base64,NEW", (string?)null), (tracker.Frame, tracker.PreviousFrame));
        Assert.True(tracker.Apply(Event(1, 0.5) with { QuestId = next.Id }));
    }

    private static QuestTracker Tracking()
    {
        var tracker = new QuestTracker();
        tracker.Track(Quest(QuestStatus.Queued, 0));
        return tracker;
    }

    private static QuestDto Quest(QuestStatus status, double progress) => new()
    {
        Id = QuestId,
        Prompt = "a lighthouse",
        Model = "local-sketch",
        Parameters = new QuestParameters(),
        Cost = 1,
        Status = status,
        Progress = progress,
        CreatedAt = DateTimeOffset.UtcNow,
        Images = [],
    };

    private static QuestEvent Event(long sequence, double progress) => new()
    {
        QuestId = QuestId,
        UserId = Guid.Empty,
        Sequence = sequence,
        Status = QuestStatus.Running,
        Progress = progress,
        PublishedAt = DateTimeOffset.UtcNow,
    };
}
