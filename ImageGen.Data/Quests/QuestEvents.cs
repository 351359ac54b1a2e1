using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;

namespace ImageGen.Data.Quests;

/// <summary>The event that tells a quest's owner its state, built the same way by every publisher.</summary>
public static class QuestEvents
{
    /// <param name="sequence">See <see cref="QuestSequence"/>.</param>
    /// <param name="totalSteps">The steps the progress bar counts (the local renderer's, or 100).</param>
    public static QuestEvent For(Quest quest, long sequence, int totalSteps, DateTimeOffset at) => new()
    {
        QuestId = quest.Id,
        UserId = quest.UserId,
        Sequence = sequence,
        Status = quest.Status,
        Step = (int)Math.Round(quest.Progress * totalSteps),
        TotalSteps = totalSteps,
        Progress = quest.Progress,
        StatusText = quest.StatusText,
        Error = quest.ErrorCode is null ? null : new QuestErrorDto(quest.ErrorCode, quest.ErrorMessage ?? ""),
        PublishedAt = at,
        // The whole quest rides on the final event, so the API need not read it back; it signs the image URLs.
        Quest = quest.Status.IsTerminal() ? quest.ToDto() : null,
    };
}
