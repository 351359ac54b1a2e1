using System.Text.Json.Serialization;

namespace ImageGen.Core.Catalog;

/// <summary>Where a model runs.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ModelProvider>))]
public enum ModelProvider
{
    Local,
    OpenAI,
    BlackForestLabs,
    Midjourney,
}

/// <summary>An inclusive range of whole numbers with a default.</summary>
public sealed record IntRange(int Min, int Max, int Default)
{
    public bool Contains(int value) => value >= Min && value <= Max;
}

/// <summary>Width and height limits of a model that takes free sizes.</summary>
public sealed record SizeRange(int Min, int Max, int Multiple, int DefaultWidth, int DefaultHeight)
{
    public bool Contains(int value) => value >= Min && value <= Max;

    public bool IsMultiple(int value) => value % Multiple == 0;

    /// <summary>A size (an edit's input) scaled, keeping its shape, into this range, on its multiple.</summary>
    public (int Width, int Height) Fit(int width, int height)
    {
        var scale = Math.Min(1.0, (double)Max / Math.Max(width, height));
        scale = Math.Max(scale, (double)Min / Math.Min(width, height));
        int Snap(double value) => Math.Clamp((int)(value / Multiple) * Multiple, Min, Max);
        return (Snap(width * scale), Snap(height * scale));
    }
}

/// <summary>
/// Everything the API, the workers and the web form need to know about one model: which parameters it takes and
/// within which limits, and what it costs. One source of truth: validation, mapping and pricing all read it.
/// </summary>
public sealed record ModelDescriptor
{
    public required string Id { get; init; }
    public required string DisplayName { get; init; }
    public required ModelProvider Provider { get; init; }
    public required string Description { get; init; }
    public required int MaxPromptLength { get; init; }

    /// <summary>Free width and height (local renderer, FLUX 1.1 pro, FLUX dev).</summary>
    public SizeRange? Dimensions { get; init; }

    /// <summary>A fixed list of "WxH" sizes, first is the default (gpt-image).</summary>
    public IReadOnlyList<string>? Sizes { get; init; }

    /// <summary>Aspect ratios instead of sizes, first is the default (FLUX 1.1 pro ultra).</summary>
    public IReadOnlyList<string>? AspectRatios { get; init; }

    /// <summary>Quality levels, first is the default (gpt-image).</summary>
    public IReadOnlyList<string>? Qualities { get; init; }

    /// <summary>Images per quest.</summary>
    public IntRange ImageCount { get; init; } = new(1, 1, 1);

    public bool TakesSeed { get; init; }

    /// <summary>BFL's moderation strictness, 0 (strictest) to 6.</summary>
    public IntRange? SafetyTolerance { get; init; }

    /// <summary>Output formats, first is the default.</summary>
    public required IReadOnlyList<string> OutputFormats { get; init; }

    /// <summary>How many input images an edit takes (null: the model only makes new images).</summary>
    public IntRange? InputImages { get; init; }

    /// <summary>Whether an edit may name a mask: a PNG of the first image's size whose transparent pixels mark what to change.</summary>
    public bool TakesMask { get; init; }

    /// <summary>Follow-ups a finished grid offers (Midjourney: U1-U4 upscale one take, V1-V4 vary one), or null.</summary>
    public IReadOnlyList<string>? Actions { get; init; }

    /// <summary>Model versions to choose from (Midjourney's <c>--v</c>), first is the default.</summary>
    public IReadOnlyList<string>? Versions { get; init; }

    /// <summary>Midjourney's <c>--stylize</c>, 0 to 1000.</summary>
    public IntRange? Stylize { get; init; }

    public bool TakesPromptUpsampling { get; init; }
    public bool TakesRaw { get; init; }

    public required CostRule Cost { get; init; }

    /// <summary>False for a model listed so people know it exists, but never offered (for example, no public API).</summary>
    public bool Available { get; init; } = true;
}
