using System.Globalization;
using ImageGen.Core.Quests;

namespace ImageGen.Core.Storage;

/// <summary>
/// A way to deliver an image: a width from a fixed set, a format and a quality, each optional. The set of widths is
/// fixed so that nobody can make the server render (and cache) an unbounded number of sizes.
/// </summary>
public sealed record ImageVariant(int? Width, string? Format, int? Quality)
{
    public static readonly IReadOnlyList<int> Widths = [64, 256, 512, 800, 1200];
    public static readonly IReadOnlyList<string> Formats = ["jpeg", "webp", "png"];
    public const int MinQuality = 40;
    public const int MaxQuality = 95;
    public const int DefaultQuality = 80;

    /// <summary>
    /// The qualities a variant is made at: any asked-for quality takes the nearest, so one image has at most
    /// widths x formats x steps variants (60), never one per number a caller tries.
    /// </summary>
    public static readonly IReadOnlyList<int> QualitySteps = [50, 65, 80, 95];

    /// <summary>The step nearest to <paramref name="quality"/> (the higher one on a tie).</summary>
    public static int Snap(int quality) => QualitySteps.OrderBy(step => Math.Abs(step - quality)).ThenByDescending(step => step).First();

    /// <summary>The quality a format is really made at: PNG is lossless, so quality means nothing for it (0).</summary>
    public static int EffectiveQuality(string format, int quality) => format == "png" ? 0 : Snap(quality);

    public static readonly ImageVariant Original = new(null, null, null);

    public bool IsOriginal => Width is null && Format is null && Quality is null;

    /// <summary>
    /// The name a signature covers: "original", or width, format ("auto" when the browser's Accept header picks it)
    /// and quality, so a URL signed for one variant opens no other.
    /// </summary>
    public string Name => IsOriginal
        ? "original"
        : string.Create(CultureInfo.InvariantCulture, $"w{(Width is { } w ? w.ToString(CultureInfo.InvariantCulture) : "orig")}.{Format ?? "auto"}.q{Quality ?? DefaultQuality}");

    /// <summary>The query string that asks for this variant (empty for the original), without a leading separator.</summary>
    public string Query
    {
        get
        {
            var parts = new List<string>(3);
            if (Width is { } w)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"w={w}"));
            }

            if (Format is { } f)
            {
                parts.Add("fmt=" + f);
            }

            if (Quality is { } q)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"q={q}"));
            }

            return string.Join('&', parts);
        }
    }

    /// <summary>Reads a variant from request values; on a bad value, names the field and says what is allowed.</summary>
    public static bool TryParse(string? width, string? format, string? quality, out ImageVariant variant, out (string Field, string Code, string Message) error)
    {
        variant = Original;
        error = default;
        int? w = null;
        if (width is not null && width != "original")
        {
            if (!int.TryParse(width, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || !Widths.Contains(parsed))
            {
                error = ("w", ErrorCodes.InvalidWidth, $"The width is one of {string.Join(", ", Widths)} or 'original'.");
                return false;
            }

            w = parsed;
        }

        if (format is not null && !Formats.Contains(format))
        {
            error = ("fmt", ErrorCodes.InvalidFormat, $"The format is one of {string.Join(", ", Formats)}.");
            return false;
        }

        int? q = null;
        if (quality is not null)
        {
            if (!int.TryParse(quality, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed is < MinQuality or > MaxQuality)
            {
                error = ("q", ErrorCodes.InvalidQuality, $"The quality is a whole number from {MinQuality} to {MaxQuality}.");
                return false;
            }

            // PNG takes no quality; any other takes the nearest step.
            q = format == "png" ? null : Snap(parsed);
        }

        variant = new ImageVariant(w, format, q);
        return true;
    }
}
