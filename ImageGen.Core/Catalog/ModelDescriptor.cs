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
/// Free "WxH" sizes (gpt-image-2): both edges multiples of <see cref="Multiple"/>, the long edge at most
/// <see cref="MaxEdge"/>, the long edge at most <see cref="MaxAspect"/> times the short, the area within
/// <see cref="MinPixels"/> and <see cref="MaxPixels"/>.
/// </summary>
public sealed record SizeRule(int Multiple, int MaxEdge, int MaxAspect, long MinPixels, long MaxPixels)
{
    /// <summary>Why a size breaks the rule, or null when it keeps it.</summary>
    public string? Problem(int width, int height)
    {
        long pixels = (long)width * height;
        return width <= 0 || height <= 0 ? "both edges must be positive"
            : width % Multiple != 0 || height % Multiple != 0 ? $"both edges must be multiples of {Multiple}"
            : Math.Max(width, height) > MaxEdge ? $"the long edge must be at most {MaxEdge}"
            : Math.Max(width, height) > (long)MaxAspect * Math.Min(width, height) ? $"the shape must lie between 1:{MaxAspect} and {MaxAspect}:1"
            : pixels < MinPixels || pixels > MaxPixels ? $"the area must be between {MinPixels:N0} and {MaxPixels:N0} pixels"
            : null;
    }

    /// <summary>"WxH" as two numbers, or null.</summary>
    public static (int Width, int Height)? Parse(string? size)
    {
        var parts = size?.Split('x');
        return parts is [var w, var h]
            && int.TryParse(w, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var width)
            && int.TryParse(h, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var height)
            ? (width, height)
            : null;
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

    /// <summary>Sizes beyond <see cref="Sizes"/> the model takes as "WxH" (gpt-image-2), or null for the list only.</summary>
    public SizeRule? FreeSizes { get; init; }

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

    /// <summary>
    /// True where input images are references the model draws from (FLUX.2): the output's size is asked as for a new
    /// image. False where the model changes its first input, keeping its size.
    /// </summary>
    public bool InputsAreReferences { get; init; }

    /// <summary>True for a model that only changes an image (FLUX fill): a quest without <c>images</c> is refused.</summary>
    public bool RequiresInput { get; init; }

    /// <summary>Whether an edit may name a mask: a PNG of the first image's size whose transparent pixels mark what to change.</summary>
    public bool TakesMask { get; init; }

    /// <summary>Follow-ups a finished grid offers (Midjourney: U1-U4 upscale one take, V1-V4 vary one), or null.</summary>
    public IReadOnlyList<string>? Actions { get; init; }

    /// <summary>Model versions to choose from (Midjourney's <c>--v</c>), first is the default.</summary>
    public IReadOnlyList<string>? Versions { get; init; }

    /// <summary>Midjourney's <c>--stylize</c>, 0 to 1000.</summary>
    public IntRange? Stylize { get; init; }

    /// <summary>OpenAI's <c>background</c>: auto, opaque, transparent (transparent only in png or webp), first is the default.</summary>
    public IReadOnlyList<string>? Backgrounds { get; init; }

    /// <summary>OpenAI's <c>moderation</c>: auto (the default) or low.</summary>
    public IReadOnlyList<string>? Moderations { get; init; }

    /// <summary>Whether the model takes <c>output_compression</c> (0-100, jpeg and webp only).</summary>
    public bool TakesOutputCompression { get; init; }

    /// <summary>Preview frames a streamed one-image generation sends (OpenAI's <c>partial_images</c>), 0 to 3.</summary>
    public IntRange? PartialImages { get; init; }

    /// <summary>How closely an edit keeps its input's details (OpenAI's <c>input_fidelity</c>), first is the default.</summary>
    public IReadOnlyList<string>? InputFidelities { get; init; }

    public bool TakesPromptUpsampling { get; init; }
    public bool TakesRaw { get; init; }

    public required CostRule Cost { get; init; }

    /// <summary>False for a model listed so people know it exists, but never offered (for example, no public API).</summary>
    public bool Available { get; init; } = true;
}
