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
        RequestedModel = quest.RequestedModel,
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
        Descriptions = quest.Descriptions,
        CancelCharge = quest.Status == QuestStatus.Running ? Quests.QuestCharges.ForCancel(quest).Charged : 0,
    };

    /// <summary>The request that makes this quest again (an operator's re-drive): its prompt, model and parameters as submitted.</summary>
    public static CreateQuestRequest ToRequest(this Quest quest) => new()
    {
        Prompt = quest.Prompt,
        Model = quest.RequestedModel ?? quest.Model,
        Width = quest.Parameters.Width,
        Height = quest.Parameters.Height,
        Size = quest.Parameters.Size,
        AspectRatio = quest.Parameters.AspectRatio,
        Quality = quest.Parameters.Quality,
        N = quest.Parameters.N,
        Seed = quest.Parameters.Seed,
        SafetyTolerance = quest.Parameters.SafetyTolerance,
        OutputFormat = quest.Parameters.OutputFormat,
        PromptUpsampling = quest.Parameters.PromptUpsampling,
        Raw = quest.Parameters.Raw,
        Action = quest.Parameters.Action,
        Stylize = quest.Parameters.Stylize,
        Version = quest.Parameters.Version,
        Images = quest.Parameters.Images,
        Mask = quest.Parameters.Mask,
        Background = quest.Parameters.Background,
        Moderation = quest.Parameters.Moderation,
        OutputCompression = quest.Parameters.OutputCompression,
        PartialImages = quest.Parameters.PartialImages,
        InputFidelity = quest.Parameters.InputFidelity,
        Fallbacks = quest.Parameters.Fallbacks is { Count: > 0 } fallbacks ? [.. fallbacks.Select(f => f.Model)] : null,
    };
}
