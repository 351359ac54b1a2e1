using ImageGen.Core.Quests;
using ImageGen.Data.Entities;

namespace ImageGen.Data;

public static class QuestMapping
{
    /// <summary>The quest as clients see it; <paramref name="imageUrl"/> makes each image's URL (the API signs them).</summary>
    public static QuestDto ToDto(this Quest quest, Func<Guid, string> imageUrl) => new()
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
        Images = [.. quest.Images.OrderBy(i => i.Index).Select(i => new QuestImageDto(i.Id, imageUrl(i.Id), i.Width, i.Height, i.ContentType))],
        Error = quest.ErrorCode is null ? null : new QuestErrorDto(quest.ErrorCode, quest.ErrorMessage ?? ""),
    };
}
