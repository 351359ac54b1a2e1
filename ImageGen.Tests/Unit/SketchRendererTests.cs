using ImageGen.Rendering;
using SkiaSharp;

namespace ImageGen.Tests.Unit;

public sealed class SketchRendererTests
{
    [Fact]
    public void The_same_prompt_and_seed_give_the_same_bytes()
    {
        var first = SketchRenderer.Render(new SketchRequest("a lighthouse at night", 42, 256, 192));
        var second = SketchRenderer.Render(new SketchRequest("a lighthouse at night", 42, 256, 192));

        Assert.Equal(first.Png, second.Png);
    }

    [Fact]
    public void The_faster_png_encoding_loses_no_pixel()
    {
        // Gradients and noise, opaque: what a picture holds. Decoded again, every pixel is as it was.
        using var original = new SKBitmap(new SKImageInfo(200, 120, SKColorType.Rgba8888, SKAlphaType.Premul));
        var random = new Random(7);
        for (var y = 0; y < original.Height; y++)
        {
            for (var x = 0; x < original.Width; x++)
            {
                original.SetPixel(x, y, new SKColor((byte)x, (byte)(y * 2), (byte)random.Next(256)));
            }
        }

        using var png = ImageEncoding.Png(original);
        using var decoded = SKBitmap.Decode(png.ToArray());

        Assert.Equal((200, 120), (decoded.Width, decoded.Height));
        Assert.Equal(original.Pixels, decoded.Pixels);
    }

    [Fact]
    public void The_placeholder_from_the_pixels_is_the_one_its_png_would_give()
    {
        var rendered = SketchRenderer.Render(new SketchRequest("a lighthouse at night", 42, 320, 192));

        Assert.StartsWith("data:image/webp;base64,", rendered.Placeholder, StringComparison.Ordinal);
        Assert.Equal(ImageVariants.Placeholder(rendered.Png), rendered.Placeholder);
    }

    [Fact]
    public void A_different_prompt_or_seed_gives_a_different_picture()
    {
        var baseline = Pixels(SketchRenderer.Render(new SketchRequest("a lighthouse at night", 42, 128, 128)));
        var otherPrompt = Pixels(SketchRenderer.Render(new SketchRequest("a desert at noon", 42, 128, 128)));
        var otherSeed = Pixels(SketchRenderer.Render(new SketchRequest("a lighthouse at night", 43, 128, 128)));

        // Not a few pixels: a visibly different picture (a large share of pixels differ).
        Assert.True(ShareDifferent(baseline, otherPrompt) > 0.3, "a different prompt should change most of the picture");
        Assert.True(ShareDifferent(baseline, otherSeed) > 0.3, "a different seed should change most of the picture");
    }

    [Fact]
    public void An_edit_is_deterministic_keeps_the_opaque_part_of_the_mask_and_repaints_the_rest()
    {
        var source = Solid(96, 64, new SKColor(10, 200, 30));
        using var maskBitmap = new SKBitmap(96, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        maskBitmap.Erase(SKColors.Black);
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 48; x++)
            {
                maskBitmap.SetPixel(x, y, SKColors.Transparent);
            }
        }

        var mask = maskBitmap.Encode(SKEncodedImageFormat.Png, 100).ToArray();
        var request = new SketchRequest("a storm", 7, 96, 64, source, mask);
        var first = SketchRenderer.Render(request);

        Assert.Equal(first.Png, SketchRenderer.Render(request).Png);
        using var result = SKBitmap.Decode(first.Png);
        Assert.All(Enumerable.Range(48, 48), x => Assert.Equal(new SKColor(10, 200, 30), result.GetPixel(x, 32)));
        Assert.True(Enumerable.Range(0, 48).Count(x => result.GetPixel(x, 32) != new SKColor(10, 200, 30)) > 40, "the transparent half is repainted");
    }

    [Fact]
    public void An_edit_without_a_mask_changes_the_whole_picture_but_lets_the_source_show()
    {
        var red = SketchRenderer.Render(new SketchRequest("a storm", 7, 64, 64, Solid(64, 64, SKColors.Red)));
        var blue = SketchRenderer.Render(new SketchRequest("a storm", 7, 64, 64, Solid(64, 64, SKColors.Blue)));

        Assert.True(ShareDifferent(Pixels(red), Pixels(blue)) > 0.9, "the source shows through everywhere");
        using var bitmap = SKBitmap.Decode(red.Png);
        Assert.NotEqual(SKColors.Red, bitmap.GetPixel(32, 32));
    }

    private static byte[] Solid(int width, int height, SKColor color)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(color);
        return bitmap.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }

    [Theory]
    [InlineData(64, 64)]
    [InlineData(512, 256)]
    [InlineData(200, 640)]
    public void The_image_is_a_png_of_the_requested_size_and_not_blank(int width, int height)
    {
        var image = SketchRenderer.Render(new SketchRequest("mountains over a lake", 7, width, height));
        using var bitmap = SKBitmap.Decode(image.Png);

        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        Assert.True(bitmap.Pixels.Distinct().Count() > 50, "a picture has many colours");
    }

    [Fact]
    public async Task It_paints_in_eight_ordered_steps_each_announced()
    {
        var steps = new List<RenderStep>();
        await SketchRenderer.RenderAsync(new SketchRequest("p", 1, 64, 64), (step, _) =>
        {
            steps.Add(step);
            return ValueTask.CompletedTask;
        }, TimeSpan.Zero, TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(1, 8), steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(8, s.TotalSteps));
        Assert.Equal("Now painting the stars... 2/8", steps[1].StatusText);
    }

    [Fact]
    public async Task Previews_are_small_webp_frames_of_the_picture_so_far_and_cost_nothing_when_not_asked_for()
    {
        var steps = new List<RenderStep>();
        ValueTask Keep(RenderStep step, CancellationToken _)
        {
            steps.Add(step);
            return ValueTask.CompletedTask;
        }

        await SketchRenderer.RenderAsync(new SketchRequest("a lighthouse", 1, 1024, 768), Keep, TimeSpan.Zero, TestContext.Current.CancellationToken, previewEvery: TimeSpan.Zero);

        // Every step but the last (its full image follows at once) carries a frame.
        Assert.Equal(7, steps.Count(s => s.Preview is not null));
        Assert.Null(steps[^1].Preview);
        var frames = steps.Where(s => s.Preview is not null).Select(s => s.Preview!).ToList();
        Assert.All(frames, frame =>
        {
            Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(frame, 8, 4));
            Assert.True(frame.Length < 16_000, $"a frame of {frame.Length} bytes");
            using var decoded = SKBitmap.Decode(frame);
            Assert.Equal((256, 192), (decoded.Width, decoded.Height));
        });
        // The frames change as the layers are drawn.
        Assert.Equal(frames.Count, frames.Select(Convert.ToBase64String).Distinct().Count());

        steps.Clear();
        await SketchRenderer.RenderAsync(new SketchRequest("a lighthouse", 1, 64, 64), Keep, TimeSpan.Zero, TestContext.Current.CancellationToken, previewEvery: TimeSpan.FromHours(1));
        Assert.Single(steps, s => s.Preview is not null);
        steps.Clear();
        await SketchRenderer.RenderAsync(new SketchRequest("a lighthouse", 1, 64, 64), Keep, TimeSpan.Zero, TestContext.Current.CancellationToken);
        Assert.All(steps, s => Assert.Null(s.Preview));
    }

    [Fact]
    public async Task Cancellation_stops_the_render()
    {
        using var cts = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SketchRenderer.RenderAsync(new SketchRequest("p", 1, 64, 64), (step, _) =>
        {
            if (step.Step == 3)
            {
                cts.Cancel();
            }

            return ValueTask.CompletedTask;
        }, TimeSpan.Zero, cts.Token));
    }

    private static SKColor[] Pixels(RenderedImage image)
    {
        using var bitmap = SKBitmap.Decode(image.Png);
        return bitmap.Pixels;
    }

    private static double ShareDifferent(SKColor[] a, SKColor[] b) => (double)a.Zip(b).Count(p => p.First != p.Second) / a.Length;
}
