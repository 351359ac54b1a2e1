using System.Diagnostics.CodeAnalysis;

namespace ImageGen.Core.Catalog;

/// <summary>The models ImageGen knows. The API validates against it, the workers map from it, the web builds its form from it.</summary>
public static class ModelCatalog
{
    public const string LocalSketch = "local-sketch";
    public const string GptImage15 = "gpt-image-1.5";
    public const string GptImage1 = "gpt-image-1";
    public const string GptImage1Mini = "gpt-image-1-mini";
    public const string FluxPro11 = "flux-pro-1.1";
    public const string FluxPro11Ultra = "flux-pro-1.1-ultra";
    public const string FluxDev = "flux-dev";
    public const string FluxKontextPro = "flux-kontext-pro";
    public const string FluxKontextMax = "flux-kontext-max";
    public const string Midjourney = "midjourney";

    /// <summary>Seeds are unsigned 32-bit, the widest range every provider accepts.</summary>
    public const long MaxSeed = uint.MaxValue;

    private static readonly string[] GptImageSizes = ["1024x1024", "1536x1024", "1024x1536", "auto"];
    private static readonly string[] GptImageQualities = ["auto", "low", "medium", "high"];

    private static readonly ModelDescriptor GptImage = new()
    {
        Id = GptImage15,
        DisplayName = "GPT Image 1.5",
        Provider = ModelProvider.OpenAI,
        Description = "OpenAI's image model: strong prompt following and text in images.",
        MaxPromptLength = 32_000,
        Sizes = GptImageSizes,
        Qualities = GptImageQualities,
        ImageCount = new IntRange(1, 10, 1),
        OutputFormats = ["png", "jpeg", "webp"],
        InputImages = new IntRange(1, 16, 1),
        TakesMask = true,
        Cost = CostRule.OpenAITokens(new OpenAIPrices(TextInput: 5m, ImageInput: 10m, Output: 40m)),
    };

    private static readonly ModelDescriptor FluxPro = new()
    {
        Id = FluxPro11,
        DisplayName = "FLUX 1.1 [pro]",
        Provider = ModelProvider.BlackForestLabs,
        Description = "Black Forest Labs' fast, high-quality model.",
        // BFL does not publish a prompt limit; this bound keeps requests sane and is easy to change.
        MaxPromptLength = 10_000,
        Dimensions = new SizeRange(Min: 256, Max: 1440, Multiple: 32, DefaultWidth: 1024, DefaultHeight: 768),
        TakesSeed = true,
        SafetyTolerance = new IntRange(0, 6, 2),
        OutputFormats = ["jpeg", "png"],
        TakesPromptUpsampling = true,
        Cost = CostRule.PerImage(4),
    };

    public static IReadOnlyList<ModelDescriptor> All { get; } =
    [
        new ModelDescriptor
        {
            Id = LocalSketch,
            DisplayName = "Local sketch",
            Provider = ModelProvider.Local,
            Description = "The built-in renderer: landscapes drawn from the prompt and seed. Works offline, answers in seconds.",
            MaxPromptLength = 4000,
            Dimensions = new SizeRange(Min: 64, Max: 2048, Multiple: 8, DefaultWidth: 512, DefaultHeight: 512),
            TakesSeed = true,
            OutputFormats = ["png"],
            // An edit repaints the masked part (or, without a mask, the whole picture) over the input, at its size.
            InputImages = new IntRange(1, 1, 1),
            TakesMask = true,
            Cost = CostRule.PerMegapixel(1),
        },
        GptImage,
        GptImage with
        {
            Id = GptImage1Mini,
            DisplayName = "GPT Image 1 mini",
            Description = "A smaller, cheaper gpt-image model.",
            // Price per million output tokens not confirmed from OpenAI's own page; billing follows reported usage.
            Cost = CostRule.OpenAITokens(new OpenAIPrices(TextInput: 2m, ImageInput: 2.5m, Output: 8m)),
        },
        FluxPro,
        FluxPro with
        {
            Id = FluxPro11Ultra,
            DisplayName = "FLUX 1.1 [pro] ultra",
            Description = "Up to 4 megapixels, chosen by aspect ratio; 'raw' gives a less processed look.",
            Dimensions = null,
            AspectRatios = ["16:9", "1:1", "4:3", "3:4", "9:16", "21:9", "9:21"],
            TakesRaw = true,
            Cost = CostRule.PerImage(6),
        },
        FluxPro with
        {
            Id = FluxDev,
            DisplayName = "FLUX [dev]",
            Description = "Black Forest Labs' open-weights model.",
            // BFL's price for flux-dev is not confirmed; billing follows the cost the submit reports.
            Cost = CostRule.PerImage(3),
        },
        FluxPro with
        {
            Id = FluxKontextPro,
            DisplayName = "FLUX.1 Kontext [pro]",
            Description = "Black Forest Labs' editing model: change an input image by describing the change (or make a new one).",
            Dimensions = null,
            AspectRatios = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"],
            InputImages = new IntRange(1, 1, 1),
            Cost = CostRule.PerImage(4),
        },
        FluxPro with
        {
            Id = FluxKontextMax,
            DisplayName = "FLUX.1 Kontext [max]",
            Description = "Kontext at its best prompt following and typography; slower and dearer.",
            Dimensions = null,
            AspectRatios = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"],
            InputImages = new IntRange(1, 1, 1),
            Cost = CostRule.PerImage(8),
        },
        new ModelDescriptor
        {
            Id = Midjourney,
            DisplayName = "Midjourney",
            Provider = ModelProvider.Midjourney,
            Description = "Midjourney through a midjourney-proxy service: a 2x2 grid of four takes; then upscale one (U1-U4) or vary one (V1-V4).",
            MaxPromptLength = 4000,
            AspectRatios = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"],
            Stylize = new IntRange(0, 1000, 100),
            Versions = ["7", "6.1", "6", "niji 6"],
            OutputFormats = ["png"],
            // An upscale or a variation names its grid in 'images'.
            InputImages = new IntRange(1, 1, 1),
            Actions = ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4"],
            Cost = CostRule.MidjourneyJobs(grid: 8, upscale: 2),
        },
    ];

    /// <summary>
    /// Models a provider shut down: a new quest naming one is refused with <c>model_retired</c> and its replacement;
    /// quests made with it stay readable. OpenAI: gpt-image-1 shut down on 2026-10-23, DALL-E 2 and 3 on 2026-05-12
    /// (OpenAI's model list names gpt-image-2.5 as gpt-image-1's successor; of what ImageGen offers, gpt-image-1.5).
    /// </summary>
    public static IReadOnlyList<RetiredModel> Retired { get; } =
    [
        new(GptImage1, "GPT Image 1", ModelProvider.OpenAI, new DateOnly(2026, 10, 23), GptImage15),
        new("dall-e-3", "DALL-E 3", ModelProvider.OpenAI, new DateOnly(2026, 5, 12), GptImage15),
        new("dall-e-2", "DALL-E 2", ModelProvider.OpenAI, new DateOnly(2026, 5, 12), GptImage1Mini),
    ];

    public static bool TryGetRetired(string? id, [NotNullWhen(true)] out RetiredModel? model)
    {
        model = Retired.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));
        return model is not null;
    }

    /// <summary>The provider of a model as telemetry names it (lower case; "unknown" for a model ImageGen never knew).</summary>
    public static string ProviderTag(string modelId) =>
        TryGet(modelId, out var model) ? model.Provider.ToString().ToLowerInvariant()
        : TryGetRetired(modelId, out var retired) ? retired.Provider.ToString().ToLowerInvariant()
        : "unknown";

    public static bool TryGet(string? id, [NotNullWhen(true)] out ModelDescriptor? model)
    {
        model = All.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));
        return model is not null;
    }
}

/// <summary>A model its provider shut down: when, and which model ImageGen offers instead.</summary>
public sealed record RetiredModel(string Id, string DisplayName, ModelProvider Provider, DateOnly RetiredOn, string Successor);
