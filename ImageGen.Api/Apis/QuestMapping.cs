using ImageGen.Api.Images;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;

namespace ImageGen.Api.Apis;

internal static class QuestMapping
{
    public static QuestDto ToDto(this Quest quest, ImageUrlSigner signer) => new()
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
        Images = [.. quest.Images.OrderBy(i => i.Index).Select(i => new QuestImageDto(i.Id, signer.UrlFor(i.Id), i.Width, i.Height, i.ContentType))],
        Error = quest.ErrorCode is null ? null : new QuestErrorDto(quest.ErrorCode, quest.ErrorMessage ?? ""),
    };
}
