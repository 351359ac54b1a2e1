using SkiaSharp;

namespace ImageGen.Rendering;

/// <summary>Encodes and inspects images in the formats the providers return.</summary>
public static class ImageEncoding
{
    public static string ContentType(string format) => format switch
    {
        "jpeg" or "jpg" => "image/jpeg",
        "webp" => "image/webp",
        _ => "image/png",
    };

    public static string Extension(string contentType) => contentType switch
    {
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        _ => "png",
    };

    /// <summary>
    /// How ImageGen writes PNG: the Paeth filter alone and zlib level 4, not Skia's default (every filter tried on every
    /// row, level 6). On the local renderer's pictures (one run, mean of a loop on one core): 512 px 44.7 -> 15.5 ms for
    /// 78 -> 90 KB, 1024 px 122 -> 38 ms for 216 -> 237 KB, 64 px 1.5 -> 0.6 ms. The encode was most of a render's time
    /// (512 px: 46 of 56 ms); a tenth more bytes is the price.
    /// </summary>
    public static SKData Png(SKPixmap pixels) =>
        pixels.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.Paeth, 4))
        ?? throw new InvalidOperationException($"Could not encode a {pixels.Width}x{pixels.Height} PNG.");

    /// <inheritdoc cref="Png(SKPixmap)"/>
    public static SKData Png(SKBitmap bitmap)
    {
        using var pixels = bitmap.PeekPixels();
        return Png(pixels);
    }

    /// <summary>Re-encodes a PNG as jpeg or webp (quality 90); png stays as it is.</summary>
    public static byte[] Convert(byte[] png, string format)
    {
        if (format is "png")
        {
            return png;
        }

        using var bitmap = ImageDecoder.Decode(png, DecodeLimits.Default).Pixels;
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format is "webp" ? SKEncodedImageFormat.Webp : SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    /// <summary>
    /// The picture as a cut-out on a transparent background: an ellipse filling the frame keeps its pixels, the corners
    /// outside it become fully transparent (alpha 0), the edge feathered over a few pixels. PNG out.
    /// </summary>
    public static byte[] Cutout(byte[] png)
    {
        using var source = ImageDecoder.Decode(png, DecodeLimits.Default).Pixels;
        using var result = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var (width, height) = (source.Width, source.Height);
        var (cx, cy) = (width / 2.0, height / 2.0);
        // The colours in one array (a call per pixel into Skia took most of the time), then back in one set.
        var colors = source.Pixels;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (dx, dy) = ((x + 0.5 - cx) / cx, (y + 0.5 - cy) / cy);
                var distance = Math.Sqrt((dx * dx) + (dy * dy));
                var alpha = (byte)Math.Clamp((1.0 - distance) * 40 * 255, 0, 255);
                colors[(y * width) + x] = colors[(y * width) + x].WithAlpha(alpha);
            }
        }

        result.Pixels = colors;

        using var data = Png(result);
        return data.ToArray();
    }

    /// <summary>
    /// ImageGen's mask (transparent where to repaint) as BFL's fill mask: white where to fill, black where to keep. PNG.
    /// </summary>
    public static byte[] FillMask(byte[] alphaMask) => Remap(alphaMask, c => c.Alpha < 128 ? SKColors.White : SKColors.Black);

    /// <summary>A fill mask (white where to fill) as ImageGen's mask (transparent where to repaint). PNG.</summary>
    public static byte[] AlphaMask(byte[] fillMask) => Remap(fillMask, c => c.Red >= 128 ? SKColors.Transparent : SKColors.White);

    private static byte[] Remap(byte[] png, Func<SKColor, SKColor> map)
    {
        using var source = ImageDecoder.Decode(png, DecodeLimits.Default).Pixels;
        using var result = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var colors = source.Pixels;
        for (var i = 0; i < colors.Length; i++)
        {
            colors[i] = map(colors[i]);
        }

        result.Pixels = colors;
        using var data = Png(result);
        return data.ToArray();
    }

    /// <summary>The size and content type of encoded bytes (from the header, nothing decoded), or null when they are not an image.</summary>
    public static (int Width, int Height, string ContentType)? Inspect(byte[] bytes) =>
        ImageDecoder.ReadHeader(bytes) is { } header ? (header.Width, header.Height, header.ContentType) : null;

    /// <summary>True when the image has an alpha channel (a mask needs one to say where to paint).</summary>
    public static bool HasAlpha(byte[] bytes) => ImageDecoder.ReadHeader(bytes)?.HasAlpha == true;
}
