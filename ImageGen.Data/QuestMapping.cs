using ImageGen.Core.Quests;
using ImageGen.Data.Entities;

namespace ImageGen.Data;

public static class QuestMapping
{
    /// <summary>The quest as clients see it, with its images unsigned (empty URLs): only the API signs them.</summary>
    public static QuestDto ToDto(this Quest quest) => new()
    {
        Id = quest.Id,
        Prompt = quest.Prompt,
        Model = quest.Model,
        Width = quest.Width,
        Height = quest.Height,
        Seed = quest.Seed,
        Parameters = quest.Parameters,
        Cost = quest.Cost,
        Status = quest.Status,
        Progress = quest.Progress,
        StatusText = quest.StatusText,
        CreatedAt = quest.CreatedAt,
        StartedAt = quest.StartedAt,
        CompletedAt = quest.CompletedAt,
        GenerationMilliseconds = quest.GenerationMilliseconds,
        Images = [.. quest.Images.Where(i => i.DeletedAt == null).OrderBy(i => i.Index)
            .Select(i => new QuestImageDto(i.Id, "", i.Width, i.Height, i.ContentType, i.Placeholder, []))],
        Error = quest.ErrorCode is null ? null : new QuestErrorDto(quest.ErrorCode, quest.ErrorMessage ?? ""),
        CancelCharge = quest.Status == QuestStatus.Running ? Quests.QuestCharges.ForCancel(quest) : 0,
    };
}
