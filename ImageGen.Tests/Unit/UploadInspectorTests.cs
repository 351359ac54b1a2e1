using System.Buffers.Binary;
using System.Text;
using ImageGen.Rendering;
using SkiaSharp;

namespace ImageGen.Tests.Unit;

/// <summary>
/// What an upload must survive before it is kept: judged by content, not name; a decompression bomb refused from its
/// header; a cut-short file refused; metadata gone from what is kept.
/// </summary>
public sealed class UploadInspectorTests
{
    private const long MaxPixels = 40_000_000;

    [Fact]
    public void A_png_is_kept_as_png_without_its_text_metadata()
    {
        var png = WithTextChunk(Png(64, 48), "Location", "51.5007 N, 0.1246 W");
        Assert.Contains("51.5007", Encoding.Latin1.GetString(png), StringComparison.Ordinal);

        var clean = UploadInspector.Inspect(png, MaxPixels);

        Assert.Equal(("image/png", 64, 48), (clean.ContentType, clean.Width, clean.Height));
        Assert.DoesNotContain("51.5007", Encoding.Latin1.GetString(clean.Bytes), StringComparison.Ordinal);
        using var decoded = SKBitmap.Decode(clean.Bytes);
        Assert.Equal((64, 48), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Jpeg_stays_jpeg_and_webp_becomes_png()
    {
        Assert.Equal("image/jpeg", UploadInspector.Inspect(Encode(SKEncodedImageFormat.Jpeg), MaxPixels).ContentType);
        Assert.Equal("image/png", UploadInspector.Inspect(Encode(SKEncodedImageFormat.Webp), MaxPixels).ContentType);
    }

    [Fact]
    public void A_file_that_is_not_an_image_is_refused_whatever_it_is_called()
    {
        var refused = Assert.Throws<UploadRefusedException>(() => UploadInspector.Inspect(Encoding.UTF8.GetBytes("<svg onload=alert(1)>"), MaxPixels));
        Assert.Equal(UploadInspector.NotAnImage, refused.Code);
        Assert.Equal(UploadInspector.NotAnImage, Assert.Throws<UploadRefusedException>(() => UploadInspector.Inspect([], MaxPixels)).Code);
    }

    [Fact]
    public void A_decompression_bomb_is_refused_from_its_header_alone()
    {
        // A 64x48 PNG whose header claims 50000x50000 (2.5 gigapixels, 10 GB decoded).
        var bomb = WithSize(Png(64, 48), 50_000, 50_000);

        var refused = Assert.Throws<UploadRefusedException>(() => UploadInspector.Inspect(bomb, MaxPixels));

        Assert.Equal(UploadInspector.TooManyPixels, refused.Code);
        Assert.Contains("50000x50000", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_cut_short_is_refused()
    {
        var png = Png(256, 256);
        var refused = Assert.Throws<UploadRefusedException>(() => UploadInspector.Inspect(png[..(png.Length / 2)], MaxPixels));
        Assert.Equal(UploadInspector.Unreadable, refused.Code);
    }

    internal static byte[] Png(int width, int height) => Encode(SKEncodedImageFormat.Png, width, height);

    private static byte[] Encode(SKEncodedImageFormat format, int width = 32, int height = 32)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.CornflowerBlue);
            using var paint = new SKPaint { Color = SKColors.Orange };
            canvas.DrawCircle(width / 2f, height / 2f, Math.Min(width, height) / 3f, paint);
        }

        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>The PNG with a tEXt chunk after its header, as cameras and editors write metadata.</summary>
    private static byte[] WithTextChunk(byte[] png, string keyword, string text)
    {
        var body = Encoding.Latin1.GetBytes(keyword + "\0" + text);
        var chunk = Chunk("tEXt", body);
        const int afterHeader = 8 + 25; // signature, then IHDR (length, type, 13 bytes, CRC)
        return [.. png[..afterHeader], .. chunk, .. png[afterHeader..]];
    }

    /// <summary>The PNG with its header's width and height replaced (and the header's CRC made right again).</summary>
    internal static byte[] WithSize(byte[] png, int width, int height)
    {
        var copy = (byte[])png.Clone();
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), Crc32(copy.AsSpan(12, 17)));
        return copy;
    }

    private static byte[] Chunk(string type, byte[] body)
    {
        var chunk = new byte[12 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, body.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        body.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + body.Length), Crc32(chunk.AsSpan(4, 4 + body.Length)));
        return chunk;
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
