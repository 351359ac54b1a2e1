using System.Globalization;
using System.Text.Json.Nodes;
using ImageGen.Rendering;

namespace ImageGen.ProviderSimulator;

/// <summary>The images a BFL submit carries: Kontext's input, FLUX.2's references, fill's image and mask.</summary>
internal static partial class BflApi
{
    /// <summary>
    /// FLUX.2 on <c>/v1/flux-2-*</c>: width and height 256 to 2048 in steps of 16, reference images in
    /// <c>input_image</c>, <c>input_image_2</c>, ... up to the model's count, priced by megapixel (the first, then each
    /// further one of the output and of the references).
    /// </summary>
    private sealed record Flux2(decimal First, decimal PerMegapixel, int MaxReferences, int MaxTolerance);

    private static readonly Dictionary<string, Flux2> Flux2Models = new()
    {
        ["flux-2-pro"] = new(3m, 1.5m, 8, 6), ["flux-2-max"] = new(7m, 3m, 8, 5), ["flux-2-flex"] = new(5m, 5m, 8, 6),
        ["flux-2-klein-9b"] = new(2m, 0.2m, 4, 6), ["flux-2-klein-4b"] = new(1.4m, 0.1m, 4, 6),
    };

    /// <summary>
    /// The submit's images as BFL checks them: the references (Kontext one, FLUX.2 up to its count, in numbered fields),
    /// the image the result is painted over, and fill's mask as the renderer takes it; or the refusal.
    /// </summary>
    private static (List<byte[]> References, byte[]? InputImage, byte[]? FillMask, IResult? Refused) Inputs(string model, JsonObject body, Flux2? flux2)
    {
        static (List<byte[]>, byte[]?, byte[]?, IResult?) Refuse(IResult refusal) => ([], null, null, refusal);

        // Kontext takes one input image; FLUX.2 up to its count of references, in numbered fields.
        var references = new List<byte[]>();
        var most = flux2?.MaxReferences ?? (model.StartsWith("flux-kontext", StringComparison.Ordinal) ? 1 : 0);
        foreach (var (name, value) in body.Where(f => f.Key == "input_image" || f.Key.StartsWith("input_image_", StringComparison.Ordinal)).ToList())
        {
            var number = name == "input_image" ? 1 : int.TryParse(name["input_image_".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            if (number < 1 || number > most)
            {
                return Refuse(Invalid(name, most == 0 ? "Extra inputs are not permitted" : $"This model takes at most {most} input image(s)", "extra_forbidden"));
            }

            try
            {
                var bytes = Convert.FromBase64String((string?)value ?? "");
                if (ImageEncoding.Inspect(bytes) is null)
                {
                    return Refuse(Invalid(name, "Input image could not be decoded", "value_error"));
                }

                references.Add(bytes);
            }
            catch (FormatException)
            {
                return Refuse(Invalid(name, "Input image is not valid base64", "value_error"));
            }
        }

        var inputImage = references.FirstOrDefault();

        // Fill: the image to change in 'image', and an optional black and white 'mask' of its size (white: repaint).
        byte[]? fillMask = null;
        if (model == "flux-pro-1.0-fill")
        {
            if (Decoded(body, "image") is not { } image)
            {
                return Refuse(Invalid("image", "Field required: a base64 image to fill", "missing"));
            }

            inputImage = image;
            if (body.ContainsKey("mask"))
            {
                if (Decoded(body, "mask") is not { } mask || ImageEncoding.Inspect(mask) is not { } maskInfo
                    || (maskInfo.Width, maskInfo.Height) != (ImageEncoding.Inspect(image)!.Value.Width, ImageEncoding.Inspect(image)!.Value.Height))
                {
                    return Refuse(Invalid("mask", "The mask must be an image of the same size as the image", "value_error"));
                }

                fillMask = ImageEncoding.AlphaMask(mask);
            }
        }

        return (references, inputImage, fillMask, null);
    }

    /// <summary>A base64 image field, decoded and recognised as an image; null when absent or not one.</summary>
    private static byte[]? Decoded(JsonObject body, string field)
    {
        try
        {
            return (string?)body[field] is { } text && Convert.FromBase64String(text) is var bytes && ImageEncoding.Inspect(bytes) is not null ? bytes : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
