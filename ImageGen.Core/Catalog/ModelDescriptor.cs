namespace ImageGen.Core.Catalog;

/// <summary>Where a model runs.</summary>
public enum ModelProvider
{
    Local,
    OpenAI,
    BlackForestLabs,
}

/// <summary>Width and height limits of a model that takes free sizes.</summary>
public sealed record SizeRange(int Min, int Max, int Multiple, int DefaultWidth, int DefaultHeight)
{
    public bool Contains(int value) => value >= Min && value <= Max;

    public bool IsMultiple(int value) => value % Multiple == 0;
}

/// <summary>
/// What a model costs in ImageGen credits. <see cref="CreditsPerMegapixel"/> charges by area, rounded up, so a bigger
/// picture costs more, as the providers price it; at least <see cref="MinimumCredits"/> per image.
/// </summary>
public sealed record CostRule(int CreditsPerMegapixel, int MinimumCredits, string Description)
{
    private const double Megapixel = 1024 * 1024;

    public int CostFor(int width, int height, int images = 1) =>
        images * Math.Max(MinimumCredits, (int)Math.Ceiling(width * (double)height / Megapixel * CreditsPerMegapixel));
}

/// <summary>Everything the API, the worker and the web form need to know about one model. One source of truth.</summary>
public sealed record ModelDescriptor
{
    public required string Id { get; init; }
    public required string DisplayName { get; init; }
    public required ModelProvider Provider { get; init; }
    public required string Description { get; init; }
    public required int MaxPromptLength { get; init; }
    public required SizeRange Size { get; init; }
    public required CostRule Cost { get; init; }

    /// <summary>False for a model listed so users know it exists, but not offered (for example, no public API).</summary>
    public bool Available { get; init; } = true;
}
