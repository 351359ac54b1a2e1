using SkiaSharp;

namespace ImageGen.Rendering;

/// <summary>The most an image may weigh and hold before it is decoded: bytes as sent, pixels as its header says.</summary>
public sealed record DecodeLimits(long MaxBytes, long MaxPixels)
{
    /// <summary>What any image entering the system is held to unless its path says less: 64 MB and 40 megapixels.</summary>
    public static readonly DecodeLimits Default = new(64L * 1024 * 1024, 40_000_000);
}

/// <summary>What an image's header says, read without decoding a pixel.</summary>
public sealed record ImageHeader(int Width, int Height, string ContentType, bool HasAlpha, SKEncodedOrigin Origin)
{
    public long Pixels => (long)Width * Height;
}

/// <summary>Why an image was not decoded, with the stable code a caller answers with.</summary>
public sealed class ImageRefusedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// The one way an image that enters the system is decoded: uploads, provider results, preview frames, grids, stored
/// images being resized. Its bytes are counted and its pixels read from the header before anything is decoded, so a
/// decompression bomb or an oversized file costs a header read. Nothing else calls Skia's decoders (a test reads the
/// services' code for it).
/// </summary>
public static class ImageDecoder
{
    public const string NotAnImage = "unsupported_image_type";
    public const string TooManyPixels = "image_too_large";
    public const string TooManyBytes = "image_too_large";
    public const string Unreadable = "image_unreadable";

    /// <summary>The header of encoded bytes, or null when they are not an image Skia reads.</summary>
    public static ImageHeader? ReadHeader(ReadOnlySpan<byte> bytes)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        return codec is null ? null : HeaderOf(codec);
    }

    /// <summary>
    /// Decodes the whole image as premultiplied RGBA after checking it against <paramref name="limits"/>; throws
    /// <see cref="ImageRefusedException"/> when it is not an image, is over a limit, or does not decode whole.
    /// </summary>
    public static (SKBitmap Pixels, ImageHeader Header) Decode(ReadOnlySpan<byte> bytes, DecodeLimits limits)
    {
        if (bytes.Length > limits.MaxBytes)
        {
            throw new ImageRefusedException(TooManyBytes, $"The image is {bytes.Length / 1e6:0.#} MB; at most {limits.MaxBytes / 1e6:0.#} MB is taken.");
        }

        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data) ?? throw new ImageRefusedException(Unreadable, "These bytes are not an image that can be read.");
        var header = HeaderOf(codec);
        if (header.Width <= 0 || header.Height <= 0 || header.Pixels > limits.MaxPixels)
        {
            throw new ImageRefusedException(TooManyPixels,
                $"The image is {header.Width}x{header.Height} ({header.Pixels / 1e6:0.#} MP); at most {limits.MaxPixels / 1e6:0.#} MP is taken.");
        }

        var pixels = new SKBitmap(new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var result = codec.GetPixels(pixels.Info, pixels.GetPixels());
        if (result != SKCodecResult.Success)
        {
            pixels.Dispose();
            throw new ImageRefusedException(Unreadable, $"The image could not be read whole ({result}): the file may be cut short or damaged.");
        }

        return (pixels, header);
    }

    /// <summary>The decoded pixels, or null when the bytes are not an image, are over a limit, or do not decode whole.</summary>
    public static SKBitmap? TryDecode(ReadOnlySpan<byte> bytes, DecodeLimits limits)
    {
        try
        {
            return Decode(bytes, limits).Pixels;
        }
        catch (ImageRefusedException)
        {
            return null;
        }
    }

    private static ImageHeader HeaderOf(SKCodec codec) => new(codec.Info.Width, codec.Info.Height, codec.EncodedFormat switch
    {
        SKEncodedImageFormat.Jpeg => "image/jpeg",
        SKEncodedImageFormat.Webp => "image/webp",
        SKEncodedImageFormat.Png => "image/png",
        _ => "application/octet-stream",
    }, codec.Info.AlphaType != SKAlphaType.Opaque, codec.EncodedOrigin);
}
