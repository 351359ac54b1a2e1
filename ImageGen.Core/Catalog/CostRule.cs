using System.Text.Json.Serialization;
using ImageGen.Core.Quests;

namespace ImageGen.Core.Catalog;

/// <summary>How a model is priced. Each kind reads its own fields; the catalog's validation refuses the others.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CostKind>))]
public enum CostKind
{
    /// <summary>Credits per started megapixel of output, at least one per image (the local renderer).</summary>
    [JsonStringEnumMemberName("perMegapixel")]
    PerMegapixel,

    /// <summary>A flat price per image (BFL's FLUX 1 models).</summary>
    [JsonStringEnumMemberName("perImage")]
    PerImage,

    /// <summary>OpenAI's gpt-image pricing: every kind of token it bills (<see cref="OpenAIPrices.Estimate"/>).</summary>
    [JsonStringEnumMemberName("openAITokens")]
    OpenAITokens,

    /// <summary>Midjourney: a grid (an imagine or a variation) and an upscale of one take.</summary>
    [JsonStringEnumMemberName("midjourneyJobs")]
    MidjourneyJobs,

    /// <summary>
    /// BFL's FLUX.2 pricing: a price for the first megapixel and one for each further megapixel, of the output and of
    /// every reference image (in BFL credits, 1 credit = US$0.01).
    /// </summary>
    [JsonStringEnumMemberName("bflMegapixels")]
    BflMegapixels,
}

/// <summary>
/// What a quest costs, in ImageGen credits (1 credit = US$0.01, as BFL counts), as the catalog writes it. The estimate
/// is reserved at submit; where a provider reports what it billed (OpenAI usage, BFL cost), the capture uses that and
/// returns the rest.
/// </summary>
public sealed record CostRule
{
    public required CostKind Kind { get; init; }

    /// <summary>Credits per image or per megapixel.</summary>
    public int? Credits { get; init; }

    /// <summary>OpenAI's prices in US dollars per million tokens: prompt text, input images, output.</summary>
    public decimal? TextInput { get; init; }
    public decimal? ImageInput { get; init; }
    public decimal? Output { get; init; }

    /// <summary>FLUX.2's credits for the first megapixel and for each further one (output and reference images).</summary>
    public decimal? First { get; init; }
    public decimal? PerMegapixel { get; init; }

    /// <summary>Midjourney's credits per grid of four and per upscale.</summary>
    public int? Grid { get; init; }
    public int? Upscale { get; init; }

    /// <summary>Whether the model reads every input image at high fidelity by itself (OpenAI tokens only).</summary>
    public bool HighFidelityInputs { get; init; }

    /// <summary>False where the price is ImageGen's best guess, not yet confirmed from the provider's own page.</summary>
    public bool Confirmed { get; init; } = true;

    public string Description => Kind switch
    {
        CostKind.PerMegapixel => $"{Credits} credit per image up to 1 megapixel (1024 x 1024), {Credits} more per started megapixel.",
        CostKind.PerImage => $"{Credits} credits per image.",
        CostKind.OpenAITokens =>
            $"Per token, as OpenAI bills: ${Output} per million output tokens (by quality and size, times n, plus preview frames), " +
            $"${TextInput} per million prompt tokens and ${ImageInput} per million input image tokens; the worst case is held, what OpenAI reports is charged.",
        CostKind.MidjourneyJobs => $"{Grid} credits per grid of four (a new one, a variation, a reroll, a zoom, a pan, a repainted region or a blend), {Upscale} per upscale or description.",
        CostKind.BflMegapixels => $"{First} credits for the first megapixel, {PerMegapixel} for each further one of the output and of every reference image; "
            + "the worst case is held (a reference at 4 megapixels), what BFL bills is charged.",
        _ => Kind.ToString(),
    };

    /// <summary>OpenAI's token prices, for a model billed by tokens.</summary>
    [JsonIgnore]
    public OpenAIPrices? TokenPrices => Kind == CostKind.OpenAITokens ? new OpenAIPrices(TextInput ?? 0, ImageInput ?? 0, Output ?? 0, HighFidelityInputs) : null;

    /// <summary>The credits a quest reserves at submit: its worst case.</summary>
    public int Estimate(ValidQuest quest) => Kind switch
    {
        CostKind.PerMegapixel => quest.ImageCount * Credits!.Value
            * Math.Max(1, (int)Math.Ceiling((quest.Width ?? 1024) * (double)(quest.Height ?? 1024) / (1024 * 1024))),
        CostKind.PerImage => quest.ImageCount * Credits!.Value,
        CostKind.OpenAITokens => TokenPrices!.Estimate(quest),
        CostKind.MidjourneyJobs => MidjourneyActions.MakesOneTake(quest.Parameters.Action) ? Upscale!.Value : Grid!.Value,
        CostKind.BflMegapixels => quest.ImageCount * CreditsForMegapixels(quest),
        _ => throw new InvalidOperationException($"No estimate for {Kind}."),
    };

    /// <summary>What is wrong with this rule for a model of <paramref name="provider"/>, field by field.</summary>
    public IEnumerable<string> Problems(ModelProvider provider)
    {
        (string Field, decimal? Value)[] needed = Kind switch
        {
            CostKind.PerMegapixel or CostKind.PerImage => [("credits", Credits)],
            CostKind.OpenAITokens => [("textInput", TextInput), ("imageInput", ImageInput), ("output", Output)],
            CostKind.MidjourneyJobs => [("grid", Grid), ("upscale", Upscale)],
            CostKind.BflMegapixels => [("first", First), ("perMegapixel", PerMegapixel)],
            _ => [],
        };
        foreach (var (field, value) in needed)
        {
            if (value is null)
            {
                yield return $"cost.{field}: a {Kind} price needs it";
            }
            else if (value < 0)
            {
                yield return $"cost.{field}: a price cannot be negative ({value})";
            }
        }

        if ((Kind == CostKind.OpenAITokens) != (provider == ModelProvider.OpenAI))
        {
            yield return $"cost.kind: OpenAI models, and only they, are priced by OpenAI tokens";
        }

        if (Kind == CostKind.BflMegapixels && provider != ModelProvider.BlackForestLabs)
        {
            yield return "cost.kind: megapixel pricing is BFL's";
        }

        if ((Kind == CostKind.MidjourneyJobs) != (provider == ModelProvider.Midjourney))
        {
            yield return $"cost.kind: Midjourney models, and only they, are priced by Midjourney jobs";
        }
    }

    /// <summary>The most a reference image is billed as: BFL scales larger ones down to about 4 megapixels.</summary>
    public const int MaxReferenceMegapixels = 4;

    /// <summary>
    /// One FLUX.2 image: its started megapixels and every reference image at its most, the first megapixel at
    /// <see cref="First"/>, the rest at <see cref="PerMegapixel"/>, rounded up once.
    /// </summary>
    private int CreditsForMegapixels(ValidQuest quest)
    {
        var output = (int)Math.Ceiling((quest.Width ?? 1024) * (double)(quest.Height ?? 1024) / 1_000_000);
        var references = (quest.Parameters.Images?.Count ?? 0) * MaxReferenceMegapixels;
        return (int)Math.Ceiling(First!.Value + (PerMegapixel!.Value * (Math.Max(1, output) - 1 + references)));
    }

    /// <summary>Credits for a dollar amount, rounded up to a whole credit.</summary>
    public static int CreditsFor(decimal dollars) => (int)Math.Ceiling(dollars * 100m);
}

/// <summary>
/// What OpenAI charges for one gpt-image model, in US dollars per million tokens of each kind, and what a request can
/// cost at most. Sources: OpenAI's pricing page for gpt-image-1 (text in $5, image in $10, image out $40), carried over
/// to gpt-image-1.5 until its own are confirmed, and gpt-image-1-mini (text in $2, image in $2.50, image out $8); the
/// output tokens per image from its image generation guide.
/// </summary>
public sealed record OpenAIPrices(decimal TextInput, decimal ImageInput, decimal Output, bool HighFidelityInputs = false)
{
    /// <summary>
    /// What high input fidelity adds per input image at most (OpenAI's figure for the largest listed size), asked
    /// with <c>input_fidelity: high</c> or applied by the model itself (gpt-image-2).
    /// </summary>
    public const int HighFidelityExtraTokens = 6240;

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
        long output = ((long)quest.ImageCount * OpenAIImageTokens.For(quest.Quality, quest.Size, quest.Model.FreeSizes)) + OpenAIImageTokens.PreviewTokens(quest);
        long text = System.Text.Encoding.UTF8.GetByteCount(quest.Prompt);
        long images = (long)(quest.Parameters.Images?.Count ?? 0) + (quest.Parameters.Mask is null ? 0 : 1);
        var perImage = MaxTokensPerInputImage + (HighFidelityInputs || quest.Parameters.InputFidelity == "high" ? HighFidelityExtraTokens : 0);
        return CostRule.CreditsFor(Dollars(text, images * perImage, output));
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

/// <summary>Output tokens per gpt-image image (OpenAI's published table), and for free sizes, by area.</summary>
public static class OpenAIImageTokens
{
    private static readonly Dictionary<(string Quality, string Size), int> Table = new()
    {
        [("low", "1024x1024")] = 272, [("low", "1024x1536")] = 408, [("low", "1536x1024")] = 400,
        [("medium", "1024x1024")] = 1056, [("medium", "1024x1536")] = 1584, [("medium", "1536x1024")] = 1568,
        [("high", "1024x1024")] = 4160, [("high", "1024x1536")] = 6240, [("high", "1536x1024")] = 6208,
    };

    /// <summary>Tokens per 1024 x 1024 pixels at each quality: the table's dearest rate, used for sizes it does not list.</summary>
    private static readonly Dictionary<string, int> PerMegapixel = new() { ["low"] = 272, ["medium"] = 1056, ["high"] = 4160 };

    private static readonly string[] Qualities = ["low", "medium", "high"];
    private static readonly string[] TableSizes = ["1024x1024", "1024x1536", "1536x1024"];

    /// <summary>What OpenAI bills per partial image, in output tokens.</summary>
    public const int TokensPerPartialImage = 100;

    /// <summary>
    /// The preview frames' tokens: a one-image generation streams as many partial images as asked; several images or
    /// an edit are not streamed.
    /// </summary>
    public static int PreviewTokens(ValidQuest quest) => IsStreamed(quest) ? (quest.Parameters.PartialImages ?? 0) * TokensPerPartialImage : 0;

    /// <summary>Whether the worker streams the quest: one new image (several images or an edit come in one answer).</summary>
    public static bool IsStreamed(ValidQuest quest) => quest.ImageCount == 1 && quest.Parameters.Images is not { Count: > 0 };

    /// <summary>The most output tokens one image can take: the dearest quality where "auto", the largest size where "auto".</summary>
    public static int For(string? quality, string? size, SizeRule? freeSizes = null)
    {
        string[] qualities = quality is null or "auto" ? Qualities : [quality];
        return qualities.Max(q => size is null or "auto"
            ? Math.Max(TableSizes.Max(s => Table[(q, s)]), freeSizes is null ? 0 : ByArea(q, freeSizes.MaxPixels))
            : Table.TryGetValue((q, size), out var listed) ? listed
            : SizeRule.Parse(size) is (int w, int h) ? ByArea(q, (long)w * h) : 0);
    }

    private static int ByArea(string quality, long pixels) =>
        PerMegapixel.TryGetValue(quality, out var rate) ? (int)Math.Ceiling(rate * (double)pixels / (1024 * 1024)) : 0;
}
