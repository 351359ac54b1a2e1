namespace ImageGen.Core.Catalog;

/// <summary>
/// Midjourney's follow-ups, in ImageGen's names, and which picture each starts from: a grid (an imagine, a variation, a
/// reroll, a zoom or a pan: four takes) or an upscale (one take). U1-U4 make an upscale; every other follow-up makes a
/// new grid. The proxy offers each as a button on the picture it follows (<see cref="ButtonMarker"/>). Blend (2 to 5
/// images into one grid) and describe (four prompts for an image) start from any of the owner's images or uploads.
/// </summary>
public static class MidjourneyActions
{
    public const string Reroll = "reroll";
    public const string VarySubtle = "vary_subtle";
    public const string VaryStrong = "vary_strong";
    public const string ZoomOut2x = "zoom_out_2x";
    public const string ZoomOut15x = "zoom_out_1.5x";
    public const string PanLeft = "pan_left";
    public const string PanRight = "pan_right";
    public const string PanUp = "pan_up";
    public const string PanDown = "pan_down";
    public const string VaryRegion = "vary_region";
    public const string Blend = "blend";
    public const string Describe = "describe";

    /// <summary>How many images a blend takes.</summary>
    public const int BlendMin = 2;
    public const int BlendMax = 5;

    /// <summary>The shapes a blend is made in (midjourney-proxy's <c>dimensions</c>), by aspect ratio.</summary>
    public static IReadOnlyDictionary<string, string> BlendDimensions { get; } = new Dictionary<string, string>
    {
        ["1:1"] = "SQUARE",
        ["2:3"] = "PORTRAIT",
        ["3:2"] = "LANDSCAPE",
    };

    /// <summary>What a grid offers: upscale or vary one of its takes, or roll the whole grid again.</summary>
    public static IReadOnlyList<string> OnGrid { get; } = ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", Reroll];

    /// <summary>What an upscale offers: vary it (subtly or strongly), zoom out, or pan.</summary>
    public static IReadOnlyList<string> OnUpscale { get; } = [VarySubtle, VaryStrong, VaryRegion, ZoomOut2x, ZoomOut15x, PanLeft, PanRight, PanUp, PanDown];

    /// <summary>What starts from any image: blend several, or describe one.</summary>
    public static IReadOnlyList<string> OnAnyImage { get; } = [Blend, Describe];

    /// <summary>True for blend and describe, which take the owner's images as they are, not a Midjourney picture.</summary>
    public static bool StartsFromAnyImage(string? action) => action is Blend or Describe;

    /// <summary>True for what is priced as one take: an upscale, or a description.</summary>
    public static bool MakesOneTake(string? action) => MakesUpscale(action) || action == Describe;

    /// <summary>True for U1-U4: the follow-up makes one take at full size (priced as an upscale).</summary>
    public static bool MakesUpscale(string? action) => action is ['U', >= '1' and <= '4'];

    /// <summary>True when the follow-up starts from an upscale rather than a grid.</summary>
    public static bool StartsFromUpscale(string? action) => action is not null && OnUpscale.Contains(action, StringComparer.Ordinal);

    /// <summary>
    /// How midjourney-proxy's <c>customId</c> of the button names the action: <c>MJ::JOB::upsample::2::...</c>,
    /// <c>MJ::JOB::reroll::0::...</c>, <c>MJ::JOB::low_variation::1::...</c>, <c>MJ::Outpaint::50::1::...</c> (2x),
    /// <c>MJ::JOB::pan_left::1::...</c>.
    /// </summary>
    public static string ButtonMarker(string action) => action switch
    {
        ['U', var n] => $"::upsample::{n}::",
        ['V', var n] => $"::variation::{n}::",
        Reroll => "::reroll::",
        VarySubtle => "::low_variation::",
        VaryStrong => "::high_variation::",
        ZoomOut2x => "::Outpaint::50::",
        ZoomOut15x => "::Outpaint::75::",
        PanLeft or PanRight or PanUp or PanDown => $"::{action}::",
        VaryRegion => "::Inpaint::",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "Not a Midjourney action."),
    };

    /// <summary>What a person reads on the button's tooltip.</summary>
    public static string Tooltip(string action) => action switch
    {
        ['U', var n] => $"Upscale take {n}",
        ['V', var n] => $"Vary take {n}",
        Reroll => "Roll the grid again",
        VarySubtle => "Vary this picture a little",
        VaryStrong => "Vary this picture a lot",
        ZoomOut2x => "Zoom out 2x",
        ZoomOut15x => "Zoom out 1.5x",
        PanLeft => "Extend to the left",
        PanRight => "Extend to the right",
        PanUp => "Extend upwards",
        PanDown => "Extend downwards",
        VaryRegion => "Repaint the part you mark",
        Blend => "Blend 2 to 5 images into one grid",
        Describe => "Suggest four prompts for this image",
        _ => action,
    };
}
