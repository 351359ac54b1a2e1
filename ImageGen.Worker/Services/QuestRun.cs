using ImageGen.Core.Messaging;
using ImageGen.Data.Entities;

namespace ImageGen.Worker.Services;

/// <summary>
/// One run of one quest in this worker: the quest as claimed, its live progress, the timeline steps gathered since the
/// last save (they go out with the next transition, so the timeline costs no round trip of its own), and the run's
/// event numbers (see <see cref="QuestSequence"/>). A new object per run: nothing to reset by hand.
/// </summary>
internal sealed class QuestRun(Quest quest, int totalSteps, TimeProvider time)
{
    private readonly List<QuestStep> _steps = [];
    private long _published;
    private long _lastSaved = time.GetTimestamp();

    public Quest Quest { get; } = quest;

    /// <summary>The run's number: how many times a worker has started the quest, this run included.</summary>
    public int Number => Quest.Attempts;

    public int TotalSteps { get; } = totalSteps;

    /// <summary>A preview frame waiting for the progress event it belongs to (a data URI).</summary>
    public string? PendingPreview { get; set; }

    /// <summary>The next event number of this run.</summary>
    public long NextSequence() => QuestSequence.RunStart(Number) + ++_published;

    public void AddStep(string kind, int? attempt = null, int? durationMs = null, int? httpStatus = null, string? code = null, string? detail = null,
        string? circuit = null, string? sent = null) =>
        _steps.Add(new QuestStep
        {
            QuestId = Quest.Id,
            At = time.GetUtcNow(),
            Kind = kind,
            Run = Number,
            Attempt = attempt,
            DurationMs = durationMs,
            HttpStatus = httpStatus,
            Code = code,
            Detail = detail,
            Circuit = circuit,
            Sent = sent,
        });

    /// <summary>The steps gathered since the last transition, handed over once.</summary>
    public IReadOnlyCollection<QuestStep> TakeSteps()
    {
        var steps = _steps.ToArray();
        _steps.Clear();
        return steps;
    }

    /// <summary>Moves the bar (never backwards) and the status line; true when it is time to save them.</summary>
    public bool Advance(double progress, string statusText, TimeSpan saveEvery)
    {
        Quest.Progress = Math.Max(Quest.Progress, progress);
        Quest.StatusText = statusText;
        if (time.GetElapsedTime(_lastSaved) < saveEvery)
        {
            return false;
        }

        _lastSaved = time.GetTimestamp();
        return true;
    }
}
