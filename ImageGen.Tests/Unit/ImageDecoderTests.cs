using System.Reflection;
using ImageGen.Rendering;
using SkiaSharp;

namespace ImageGen.Tests.Unit;

/// <summary>
/// Every image that enters the system is decoded by <see cref="ImageDecoder"/>, within byte and pixel caps read before a
/// pixel is decoded; no other code of the services calls one of Skia's decoders.
/// </summary>
public sealed class ImageDecoderTests
{
    private static readonly DecodeLimits Small = new(1024 * 1024, 1_000_000);

    [Fact]
    public void A_bomb_is_refused_from_its_header_and_a_preview_of_one_is_none()
    {
        var bomb = UploadInspectorTests.WithSize(UploadInspectorTests.Png(64, 48), 50_000, 50_000);

        var refused = Assert.Throws<ImageRefusedException>(() => ImageDecoder.Decode(bomb, Small));

        Assert.Equal(ImageDecoder.TooManyPixels, refused.Code);
        Assert.Contains("50000x50000", refused.Message, StringComparison.Ordinal);
        Assert.Null(ImageDecoder.TryDecode(bomb, DecodeLimits.Default));
        Assert.Null(SketchRenderer.PreviewOf(bomb, Small));
        Assert.Null(ImageVariants.Placeholder(bomb));
    }

    [Fact]
    public void Bytes_over_the_cap_are_refused_before_they_are_read()
    {
        var png = UploadInspectorTests.Png(600, 600);

        var refused = Assert.Throws<ImageRefusedException>(() => ImageDecoder.Decode(png, new DecodeLimits(png.Length - 1, 10_000_000)));

        Assert.Equal(ImageDecoder.TooManyBytes, refused.Code);
    }

    [Fact]
    public void An_image_within_the_caps_decodes_and_its_header_reads_without_decoding()
    {
        var png = UploadInspectorTests.Png(64, 48);
        var (pixels, header) = ImageDecoder.Decode(png, Small);
        using (pixels)
        {
            Assert.Equal((64, 48, "image/png"), (pixels.Width, pixels.Height, header.ContentType));
        }

        var bomb = UploadInspectorTests.WithSize(png, 50_000, 50_000);
        Assert.Equal((50_000, 50_000), ImageDecoder.ReadHeader(bomb) is { } h ? (h.Width, h.Height) : default);
        Assert.Null(ImageDecoder.ReadHeader("not an image"u8));
    }

    [Fact]
    public void No_other_code_of_the_services_calls_a_decoder()
    {
        var entryPoints = typeof(SKBitmap).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name is "Decode" or "DecodeBounds")
            .Concat(typeof(SKCodec).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name == "Create"))
            .Concat(typeof(SKImage).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.Name is "FromEncodedData"))
            .ToList();
        Assert.True(entryPoints.Count > 10, $"only {entryPoints.Count} decoding entry points found");

        var callers = CallSites.CallersOf(entryPoints, CallSites.Services);

        Assert.Equal(["ImageGen.Rendering.ImageDecoder"], callers);
    }
}
