using System.Text.Json.Serialization;
using ImageGen.Core.Quests;

namespace ImageGen.Core.Catalog;

/// <summary>
/// What a quest costs, in ImageGen credits (1 credit = US$0.01, as BFL counts). The estimate is reserved at submit;
/// where a provider reports what it billed (OpenAI usage, BFL cost), the capture uses that and returns the rest.
/// </summary>
public sealed record CostRule(string Description, [property: JsonIgnore] Func<ValidQuest, int> Estimate, [property: JsonIgnore] OpenAIPrices? TokenPrices = null)
{
    /// <summary>Credits per started megapixel of output, at least one per image (the local renderer).</summary>
    public static CostRule PerMegapixel(int credits) => new(
        $"{credits} credit per image up to 1 megapixel (1024 x 1024), {credits} more per started megapixel.",
        q => q.ImageCount * credits * Math.Max(1, (int)Math.Ceiling((q.Width ?? 1024) * (double)(q.Height ?? 1024) / (1024 * 1024))));

    /// <summary>A flat price per image (BFL).</summary>
    public static CostRule PerImage(int credits) => new($"{credits} credits per image.", q => q.ImageCount * credits);

    /// <summary>
    /// OpenAI's gpt-image pricing: every kind of token it bills (<see cref="OpenAIPrices.Estimate"/>), reserved at its
    /// worst case, then billed from the usage the API reports.
    /// </summary>
    public static CostRule OpenAITokens(OpenAIPrices prices) => new(
        $"Per token, as OpenAI bills: ${prices.Output} per million output tokens (by quality and size, times n, plus preview frames), " +
        $"${prices.TextInput} per million prompt tokens and ${prices.ImageInput} per million input image tokens; the worst case is held, what OpenAI reports is charged.",
        prices.Estimate, prices);

    /// <summary>Midjourney: a grid (an imagine or a variation) and an upscale of one take.</summary>
    public static CostRule MidjourneyJobs(int grid, int upscale) => new(
        $"{grid} credits per grid of four (a new one or a variation), {upscale} per upscale.",
        q => q.Parameters.Action is ['U', ..] ? upscale : grid);

    /// <summary>Credits for a dollar amount, rounded up to a whole credit.</summary>
    public static int CreditsFor(decimal dollars) => (int)Math.Ceiling(dollars * 100m);
}

/// <summary>
/// What OpenAI charges for one gpt-image model, in US dollars per million tokens of each kind, and what a request can
/// cost at most. Sources: OpenAI's pricing page for gpt-image-1 (text in $5, image in $10, image out $40), carried over
/// to gpt-image-1.5 until its own are confirmed, and gpt-image-1-mini (text in $2, image in $2.50, image out $8); the
/// output tokens per image from its image generation guide.
/// </summary>
public sealed record OpenAIPrices(decimal TextInput, decimal ImageInput, decimal Output)
{
    /// <summary>
    /// The most tokens one input image can cost at low input fidelity (what the adapter sends): scaled to fit 2048 x 2048,
    /// then its short side to 768, it covers at most 4 x 2 tiles of 512, at 129 tokens each plus 65. The exact rule is
    /// OpenAI's to change; usage decides the charge.
    /// </summary>
    public const int MaxTokensPerInputImage = 65 + (129 * 8);

    /// <summary>
    /// The worst case of a request: the output tokens of every image (the dearest quality and size where "auto"), the
    /// preview frames, every prompt byte as a token (a token is never shorter than a byte), every input image at its
    /// most.
    /// </summary>
    public int Estimate(ValidQuest quest)
    {
        long output = ((long)quest.ImageCount * OpenAIImageTokens.For(quest.Quality, quest.Size)) + OpenAIImageTokens.PreviewTokens(quest);
        long text = System.Text.Encoding.UTF8.GetByteCount(quest.Prompt);
        long images = (long)(quest.Parameters.Images?.Count ?? 0) + (quest.Parameters.Mask is null ? 0 : 1);
        return CostRule.CreditsFor(Dollars(text, images * MaxTokensPerInputImage, output));
    }

    /// <summary>
    /// What OpenAI billed from the usage it reported. Input tokens without the split into text and image are priced as
    /// image tokens (the dearer).
    /// </summary>
    public int Billed(long inputTokens, long? textTokens, long? imageTokens, long outputTokens) =>
        CostRule.CreditsFor(textTokens is { } text && imageTokens is { } image
            ? Dollars(text, image, outputTokens)
            : Dollars(0, inputTokens, outputTokens));

    private decimal Dollars(long text, long image, long output) =>
        ((text * TextInput) + (image * ImageInput) + (output * Output)) / 1_000_000m;
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
