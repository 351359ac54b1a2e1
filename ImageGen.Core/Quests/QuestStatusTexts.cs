namespace ImageGen.Core.Quests;

/// <summary>The one place a quest's status line is worded, for the states whose text is not the provider's progress.</summary>
public static class QuestStatusTexts
{
    public const string Waiting = "Waiting for a worker...";
    public const string Starting = "Starting...";
    public const string Done = "Done.";

    /// <summary>The line a quest shows once it ended, or while it waits; null for a running quest (its worker says what it does).</summary>
    public static string? For(QuestStatus status) => status switch
    {
        QuestStatus.Queued => Waiting,
        QuestStatus.Succeeded => Done,
        QuestStatus.Failed => "Failed.",
        QuestStatus.Cancelled => "Cancelled.",
        QuestStatus.TimedOut => "Timed out.",
        _ => null,
    };
}
