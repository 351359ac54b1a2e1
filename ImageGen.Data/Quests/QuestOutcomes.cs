using ImageGen.Core.Quests;
using ImageGen.Data.Entities;

namespace ImageGen.Data.Quests;

/// <summary>What became of a submit.</summary>
public abstract record SubmitOutcome
{
    private SubmitOutcome()
    {
    }

    /// <summary>Refused before anything was stored or reserved: the request, its inputs or its webhook do not hold.</summary>
    public sealed record Invalid(IReadOnlyList<FieldError> Errors) : SubmitOutcome;

    /// <summary>Stored as queued with its reservation, in one commit.</summary>
    public sealed record Accepted(Quest Quest) : SubmitOutcome;

    /// <summary>The same Idempotency-Key and body again: the quest made the first time, nothing new.</summary>
    public sealed record Replayed(Guid QuestId) : SubmitOutcome;

    /// <summary>The Idempotency-Key was used for a different body.</summary>
    public sealed record KeyReused : SubmitOutcome;

    /// <summary>The balance does not cover the cost.</summary>
    public sealed record ShortOf(int Balance, int Cost) : SubmitOutcome;

    /// <summary>The key that submitted it would pass its monthly spend cap: <paramref name="Spent"/> of <paramref name="Cap"/> this month.</summary>
    public sealed record KeyCapReached(int Spent, int Cap, int Cost) : SubmitOutcome;
}

/// <summary>What became of an owner's cancel.</summary>
public abstract record CancelOutcome
{
    private CancelOutcome()
    {
    }

    public sealed record NotFound : CancelOutcome;

    /// <summary>It was still queued: ended now, nothing charged.</summary>
    public sealed record Cancelled(Quest Quest) : CancelOutcome;

    /// <summary>It is running: its worker was asked to stop, and settles it.</summary>
    public sealed record Requested(Quest Quest) : CancelOutcome;

    public sealed record AlreadyEnded(QuestStatus Status) : CancelOutcome;
}

/// <summary>What became of a worker's claim.</summary>
public abstract record ClaimOutcome
{
    private ClaimOutcome()
    {
    }

    /// <summary>This worker runs it now; <see cref="Quest.Attempts"/> is the run's number.</summary>
    public sealed record Claimed(Quest Quest) : ClaimOutcome;

    /// <summary>Started as often as it may be: give it up.</summary>
    public sealed record Exhausted : ClaimOutcome;

    /// <summary>Finished, unknown, or alive in another worker's hands: nothing to do.</summary>
    public sealed record NotClaimable : ClaimOutcome;

    /// <summary>
    /// Its owner already has as many quests running as one user may: it stays queued (parked), and is sent again when
    /// one of them ends (or by the reconciler), so other users' quests go first meanwhile.
    /// </summary>
    public sealed record OwnerBusy : ClaimOutcome;
}
