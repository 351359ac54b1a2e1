using System.Globalization;

namespace ImageGen.ProviderSimulator;

/// <summary>OpenAI's checks of an image request, as its API reference states them, refused in its words.</summary>
internal static partial class OpenAIApi
{
    private sealed record ImageAsk(string Prompt, int N, string Size, string Quality, string Format, string Background);

    /// <summary>The fields generations and edits share, checked as OpenAI checks them; null when they hold.</summary>
    private static IResult? Check(Func<string, string?> field, FaultProfiles faults, out ImageAsk ask)
    {
        ask = null!;
        var model = field("model") ?? "dall-e-2";
        if (ShutDown.Contains(model))
        {
            return Error(404, $"The model '{model}' has been shut down and is no longer available.", "invalid_request_error", "model", "model_not_found");
        }

        if (!Models.Contains(model))
        {
            return Error(400, $"The model '{model}' does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found");
        }

        var prompt = field("prompt");
        if (string.IsNullOrEmpty(prompt) || prompt.Length > 32_000)
        {
            return Error(400, "Invalid 'prompt': string must be 1 to 32000 characters.", "invalid_request_error", "prompt", "invalid_value");
        }

        var n = int.TryParse(field("n") ?? "1", NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) ? count : 0;
        var size = field("size") ?? "auto";
        var quality = field("quality") ?? "auto";
        var format = field("output_format") ?? "png";
        if (n is < 1 or > 10)
        {
            return Error(400, $"Invalid 'n': integer below minimum value or above maximum value (1 to 10), got {n}.", "invalid_request_error", "n", "invalid_value");
        }

        var sizeTaken = FreeSizeModels.Contains(model) ? size == "auto" || FreeSizeHolds(size) : Sizes.Contains(size);
        if (!sizeTaken || !Qualities.Contains(quality) || !Formats.Contains(format))
        {
            var param = !sizeTaken ? "size" : !Qualities.Contains(quality) ? "quality" : "output_format";
            return Error(400, $"Invalid value for '{param}'.", "invalid_request_error", param, "invalid_value");
        }

        var background = field("background") ?? "auto";
        var moderation = field("moderation") ?? "auto";
        var compression = field("output_compression");
        var fidelity = field("input_fidelity");
        if (!Backgrounds.Contains(background) || !Moderations.Contains(moderation))
        {
            var param = !Backgrounds.Contains(background) ? "background" : "moderation";
            return Error(400, $"Invalid value for '{param}'.", "invalid_request_error", param, "invalid_value");
        }

        if (background == "transparent" && format == "jpeg")
        {
            return Error(400, "Transparent background is not supported for the jpeg output format. Use png or webp.", "invalid_request_error", "background", "invalid_value");
        }

        if (compression is not null && (!int.TryParse(compression, NumberStyles.None, CultureInfo.InvariantCulture, out var factor) || factor > 100 || format == "png"))
        {
            return Error(400, "Invalid 'output_compression': an integer from 0 to 100, for the jpeg and webp output formats.", "invalid_request_error", "output_compression", "invalid_value");
        }

        if (fidelity is not null && (!Fidelities.Contains(fidelity) || FreeSizeModels.Contains(model)))
        {
            return Error(400, $"Invalid 'input_fidelity' for '{model}'.", "invalid_request_error", "input_fidelity", "invalid_value");
        }

        if (faults.IsModerated(FaultProfiles.OpenAI, prompt))
        {
            return Error(400, "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
                "image_generation_user_error", null, "moderation_blocked");
        }

        ask = new ImageAsk(prompt, n, size, quality, format, background == "transparent" ? "transparent" : "opaque");
        return null;
    }

    private static bool FreeSizeHolds(string size)
    {
        var parts = size.Split('x');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h) || w == 0 || h == 0)
        {
            return false;
        }

        long pixels = (long)w * h;
        return w % 16 == 0 && h % 16 == 0 && Math.Max(w, h) <= 3840 && Math.Max(w, h) <= 3L * Math.Min(w, h) && pixels is >= 655_360 and <= 8_294_400;
    }
}
