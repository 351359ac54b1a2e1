namespace ImageGen.Core.Messaging;

/// <summary>
/// How a quest's event sequence numbers are made, so clients can drop stale events by comparing one number. A run
/// (the n-th time a worker started the quest) owns the block <c>run * RunSize</c> to <c>(run + 1) * RunSize - 1</c>:
/// its worker counts up from the bottom, and an ending decided outside the run (the reconciler, a dead letter) takes the
/// middle of the block, above anything the run itself published. A later run always outranks an earlier one, and an
/// owner's cancel of a queued quest is final, so it takes the largest number there is.
/// </summary>
public static class QuestSequence
{
    /// <summary>Events one run may publish before it would reach the next run's numbers (about a million).</summary>
    public const long RunSize = 1L << 20;

    /// <summary>The first number of a run's block; its events are this plus 1, 2, 3...</summary>
    public static long RunStart(int run) => run * RunSize;

    /// <summary>For an ending decided outside the run: above the run's own events, below the next run's.</summary>
    public static long OutsideRun(int run) => RunStart(run) + (RunSize / 2);

    /// <summary>For an ending nothing can follow (a queued quest cancelled by its owner).</summary>
    public const long Final = long.MaxValue;
}
