using SkiaSharp;

namespace ImageGen.Rendering;

/// <summary>An image someone sent in, made safe to keep: its format judged by content, metadata gone, upright.</summary>
public sealed record CleanUpload(byte[] Bytes, string ContentType, int Width, int Height);

/// <summary>Why an upload was refused, with the stable code the API answers.</summary>
public sealed class UploadRefusedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// Judges an uploaded image by its bytes, never its name or declared type: PNG, JPEG or WebP only; its pixel count is
/// read from the header and checked before anything decodes it (a decompression bomb is refused unread); it must
/// decode whole (a truncated file is refused). What is kept is re-encoded from the pixels, turned upright as its
/// EXIF orientation says, so no metadata (location, camera, thumbnails) survives. PNG and WebP are kept as PNG,
/// JPEG as JPEG (quality 95).
/// </summary>
public static class UploadInspector
{
    public const string NotAnImage = "unsupported_image_type";
    public const string TooManyPixels = "image_too_large";
    public const string Unreadable = "image_unreadable";

    public static string? SniffFormat(ReadOnlySpan<byte> head) => head switch
    {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, ..] => "png",
        [0xFF, 0xD8, 0xFF, ..] => "jpeg",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "webp",
        _ => null,
    };

    public static CleanUpload Inspect(byte[] bytes, long maxPixels)
    {
        var format = SniffFormat(bytes) ?? throw new UploadRefusedException(NotAnImage, "Send a PNG, JPEG or WebP image; this file is none of them.");
        SKBitmap decoded;
        ImageHeader header;
        try
        {
            (decoded, header) = ImageDecoder.Decode(bytes, new DecodeLimits(long.MaxValue, maxPixels));
        }
        catch (ImageRefusedException refused)
        {
            throw new UploadRefusedException(refused.Code == ImageDecoder.TooManyPixels ? TooManyPixels : Unreadable,
                refused.Code == ImageDecoder.Unreadable && refused.Message.StartsWith("These bytes", StringComparison.Ordinal)
                    ? $"This {format.ToUpperInvariant()} file cannot be read." : refused.Message);
        }

        using var pixels = decoded;
        using var upright = Upright(pixels, header.Origin);
        var keepJpeg = format == "jpeg";
        using var encoded = keepJpeg ? upright.Encode(SKEncodedImageFormat.Jpeg, 95) : ImageEncoding.Png(upright);
        return new CleanUpload(encoded.ToArray(), keepJpeg ? "image/jpeg" : "image/png", upright.Width, upright.Height);
    }

    /// <summary>The pixels as the camera meant them to be seen (the rotations phones write; mirrored origins are rare and kept as stored).</summary>
    private static SKBitmap Upright(SKBitmap source, SKEncodedOrigin origin)
    {
        var degrees = origin switch
        {
            SKEncodedOrigin.RightTop => 90,
            SKEncodedOrigin.BottomRight => 180,
            SKEncodedOrigin.LeftBottom => 270,
            _ => 0,
        };
        if (degrees == 0)
        {
            return source.Copy();
        }

        var swap = degrees != 180;
        var rotated = new SKBitmap(swap ? source.Height : source.Width, swap ? source.Width : source.Height, source.ColorType, source.AlphaType);
        using var canvas = new SKCanvas(rotated);
        canvas.Translate(rotated.Width / 2f, rotated.Height / 2f);
        canvas.RotateDegrees(degrees);
        canvas.Translate(-source.Width / 2f, -source.Height / 2f);
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        return rotated;
    }
}
