using System.Text.Json.Serialization;
using ImageGen.Core.Quests;

namespace ImageGen.Core.Catalog;

/// <summary>
/// What a quest costs, in ImageGen credits (1 credit = US$0.01, as BFL counts). The estimate is reserved at submit;
/// where a provider reports what it billed (OpenAI usage, BFL cost), the capture uses that and returns the rest.
/// </summary>
public sealed record CostRule(string Description, [property: JsonIgnore] Func<ValidQuest, int> Estimate, decimal? DollarsPerMillionTokens = null)
{
    /// <summary>Credits per started megapixel of output, at least one per image (the local renderer).</summary>
    public static CostRule PerMegapixel(int credits) => new(
        $"{credits} credit per image up to 1 megapixel (1024 x 1024), {credits} more per started megapixel.",
        q => q.ImageCount * credits * Math.Max(1, (int)Math.Ceiling((q.Width ?? 1024) * (double)(q.Height ?? 1024) / (1024 * 1024))));

    /// <summary>A flat price per image (BFL).</summary>
    public static CostRule PerImage(int credits) => new($"{credits} credits per image.", q => q.ImageCount * credits);

    /// <summary>
    /// OpenAI's gpt-image pricing: output tokens per image by quality and size, times the price per million tokens.
    /// "auto" is estimated at the dearest choice, then billed from the usage the API reports.
    /// </summary>
    public static CostRule OpenAITokens(decimal dollarsPerMillionTokens) => new(
        $"By quality and size, from ${dollarsPerMillionTokens} per million output tokens; billed from reported usage.",
        q => q.ImageCount * CreditsForTokens(OpenAIImageTokens.For(q.Quality, q.Size) + OpenAIImageTokens.PreviewTokens(q), dollarsPerMillionTokens),
        dollarsPerMillionTokens);

    /// <summary>Midjourney: a grid (an imagine or a variation) and an upscale of one take.</summary>
    public static CostRule MidjourneyJobs(int grid, int upscale) => new(
        $"{grid} credits per grid of four (a new one or a variation), {upscale} per upscale.",
        q => q.Parameters.Action is ['U', ..] ? upscale : grid);

    public static int CreditsForTokens(long tokens, decimal dollarsPerMillionTokens) =>
        (int)Math.Ceiling(tokens * dollarsPerMillionTokens / 1_000_000m * 100m);
}

/// <summary>Output tokens per gpt-image image (OpenAI's published table).</summary>
public static class OpenAIImageTokens
{
    private static readonly Dictionary<(string Quality, string Size), int> Table = new()
    {
        [("low", "1024x1024")] = 272, [("low", "1024x1536")] = 408, [("low", "1536x1024")] = 400,
        [("medium", "1024x1024")] = 1056, [("medium", "1024x1536")] = 1584, [("medium", "1536x1024")] = 1568,
        [("high", "1024x1024")] = 4160, [("high", "1024x1536")] = 6240, [("high", "1536x1024")] = 6208,
    };

    /// <summary>A one-image generation streams this many partial images, the quest's preview frames.</summary>
    public const int PreviewFrames = 1;

    /// <summary>What OpenAI bills per partial image, in output tokens.</summary>
    public const int TokensPerPartialImage = 100;

    /// <summary>The preview frames' tokens: a one-image generation streams them; several images or an edit do not.</summary>
    public static int PreviewTokens(ValidQuest quest) =>
        quest.ImageCount == 1 && quest.Parameters.Images is not { Count: > 0 } ? PreviewFrames * TokensPerPartialImage : 0;

    public static int For(string? quality, string? size)
    {
        string[] qualities = quality is null or "auto" ? ["low", "medium", "high"] : [quality];
        string[] sizes = size is null or "auto" ? ["1024x1024", "1024x1536", "1536x1024"] : [size];
        return qualities.SelectMany(q => sizes.Select(s => Table.GetValueOrDefault((q, s)))).Max();
    }
}
