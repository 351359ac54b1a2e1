using SkiaSharp;

namespace ImageGen.Rendering;

/// <summary>Makes the smaller copies an image is delivered as: resized variants and a tiny placeholder.</summary>
public static class ImageVariants
{
    /// <summary>The placeholder's longer side: big enough to show the colours and layout, small enough to inline.</summary>
    public const int PlaceholderSize = 24;

    /// <summary>A very small, soft preview as a data URI (a few hundred bytes), or null when the bytes are not an image.</summary>
    public static string? Placeholder(ReadOnlySpan<byte> encoded)
    {
        using var source = ImageDecoder.TryDecode(encoded, DecodeLimits.Default);
        return source is null ? null : Placeholder(source);
    }

    /// <summary>The placeholder of pixels at hand (a renderer's own), with no decode.</summary>
    public static string Placeholder(SKBitmap source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var scale = (double)PlaceholderSize / Math.Max(source.Width, source.Height);
        var (width, height) = (Math.Max(1, (int)Math.Round(source.Width * scale)), Math.Max(1, (int)Math.Round(source.Height * scale)));
        using var small = source.Resize(new SKImageInfo(width, height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        using var image = SKImage.FromBitmap(small);
        using var data = image.Encode(SKEncodedImageFormat.Webp, 40);
        return "data:image/webp;base64," + Convert.ToBase64String(data.AsSpan());
    }

    /// <summary>
    /// The image at <paramref name="width"/> (never wider than it is), encoded as <paramref name="format"/>
    /// ("jpeg", "webp" or "png") at <paramref name="quality"/>. Downscaling uses a Mitchell cubic filter, which keeps
    /// edges crisp without ringing.
    /// </summary>
    public static (byte[] Bytes, int Width, int Height) Resize(ReadOnlySpan<byte> encoded, int width, string format, int quality)
    {
        using var source = ImageDecoder.TryDecode(encoded, DecodeLimits.Default) ?? throw new InvalidDataException("The stored image cannot be decoded.");
        var target = Math.Min(width, source.Width);
        var height = Math.Max(1, (int)Math.Round((double)source.Height * target / source.Width));
        using var resized = target == source.Width
            ? source.Copy()
            : source.Resize(new SKImageInfo(target, height), new SKSamplingOptions(SKCubicResampler.Mitchell));
        if (format == "png")
        {
            using var png = ImageEncoding.Png(resized);
            return (png.ToArray(), target, height);
        }

        using var image = SKImage.FromBitmap(resized);
        using var data = image.Encode(format == "webp" ? SKEncodedImageFormat.Webp : SKEncodedImageFormat.Jpeg, quality);
        return (data.ToArray(), target, height);
    }
}
