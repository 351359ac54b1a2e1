namespace ImageGen.Core.Quests;

/// <summary>The states a quest moves through. Serialized by name on the wire and in the database.</summary>
public enum QuestStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
}

public static class QuestStatusExtensions
{
    /// <summary>True for a state a quest never leaves.</summary>
    public static bool IsTerminal(this QuestStatus status) =>
        status is QuestStatus.Succeeded or QuestStatus.Failed or QuestStatus.Cancelled or QuestStatus.TimedOut;
}
