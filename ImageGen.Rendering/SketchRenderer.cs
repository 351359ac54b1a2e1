using System.Buffers.Binary;
using System.Numerics;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using SkiaSharp;

namespace ImageGen.Rendering;

/// <summary>
/// What to draw. With a <paramref name="Source"/> it is an edit: the new picture is painted over the source, only where
/// the <paramref name="Mask"/> is transparent (a PNG of the source's size), or over all of it, letting the source show
/// through, without a mask. Source and mask are scaled to <paramref name="Width"/> x <paramref name="Height"/>.
/// </summary>
public sealed record SketchRequest(string Prompt, long Seed, int Width, int Height, byte[]? Source = null, byte[]? Mask = null);

/// <summary>One finished step of a render, with a small WebP of the picture so far when one was asked for.</summary>
public sealed record RenderStep(int Step, int TotalSteps, string StatusText, byte[]? Preview = null);

/// <summary>A rendered PNG, its gallery placeholder (see <see cref="ImageVariants.Placeholder(SKBitmap)"/>), and how long the renderer took (pacing included).</summary>
public sealed record RenderedImage(byte[] Png, int Width, int Height, TimeSpan Elapsed, string Placeholder);

/// <summary>
/// The built-in local renderer. It paints an abstract landscape whose palette, shapes and composition come from
/// a hash of the prompt and the seed, in <see cref="StepCount"/> visible steps. Same prompt and seed give the same
/// bytes; a different prompt gives a different picture. It needs no network and no model weights.
/// </summary>
public static partial class SketchRenderer
{
    public const int StepCount = 8;

    private static readonly string[] StepNames =
    [
        "the sky", "the stars", "the distant light", "far mountains", "near hills", "the water", "the trees", "the finishing touches",
    ];

    /// <param name="onStep">Called after each step is drawn; the worker publishes it as progress.</param>
    /// <param name="stepDelay">Pause before each step, so progress is visible to people; zero in benchmarks.</param>
    /// <param name="previewEvery">
    /// When set, a step carries a preview (at most <see cref="PreviewSize"/> px, WebP) if this long has passed since the
    /// last one; never the last step, whose full image follows at once. Null: no previews, no cost.
    /// </param>
    public static async Task<RenderedImage> RenderAsync(
        SketchRequest request,
        Func<RenderStep, CancellationToken, ValueTask> onStep,
        TimeSpan stepDelay,
        CancellationToken cancellationToken,
        TimeSpan? previewEvery = null,
        int steps = StepCount)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onStep);
        var started = Stopwatch.GetTimestamp();

        var info = new SKImageInfo(request.Width, request.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = SKSurface.Create(info)
            ?? throw new InvalidOperationException($"Could not create a {request.Width}x{request.Height} surface.");
        var painter = new Painter(canvas.Canvas, request);
        using var edit = request.Source is null ? null : EditLayer.Create(request, info);
        var surface = edit?.Output ?? canvas;

        long? lastPreview = null;
        for (var step = 1; step <= Math.Clamp(steps, 1, StepCount); step++)
        {
            if (stepDelay > TimeSpan.Zero)
            {
                await Task.Delay(stepDelay, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            painter.Paint(step);
            edit?.Compose(canvas);
            byte[]? preview = null;
            if (previewEvery is { } every && step < StepCount
                && (lastPreview is not { } last || Stopwatch.GetElapsedTime(last) >= every))
            {
                preview = Preview(surface);
                lastPreview = Stopwatch.GetTimestamp();
            }

            await onStep(new RenderStep(step, StepCount, $"Now painting {StepNames[step - 1]}... {step}/{StepCount}", preview), cancellationToken);
        }

        using var pixels = surface.PeekPixels();
        using var data = ImageEncoding.Png(pixels);
        // From the pixels at hand: made from the PNG, it cost a decode of the whole picture (1024 px: 11-14 ms).
        using var finished = new SKBitmap();
        finished.InstallPixels(pixels);
        return new RenderedImage(data.ToArray(), request.Width, request.Height, Stopwatch.GetElapsedTime(started), ImageVariants.Placeholder(finished));
    }

    /// <summary>The longest side of a preview frame.</summary>
    public const int PreviewSize = 256;

    /// <summary>The picture so far, scaled to fit <see cref="PreviewSize"/> and encoded as a small WebP.</summary>
    private static byte[] Preview(SKSurface surface)
    {
        using var snapshot = surface.Snapshot();
        return Preview(snapshot);
    }

    /// <summary>
    /// A preview frame of any encoded image (a provider's partial image): scaled to fit <see cref="PreviewSize"/>, as
    /// a small WebP; null when the bytes are not an image or are over <paramref name="limits"/> (the default caps).
    /// </summary>
    public static byte[]? PreviewOf(byte[] encoded, DecodeLimits? limits = null)
    {
        using var pixels = ImageDecoder.TryDecode(encoded, limits ?? DecodeLimits.Default);
        if (pixels is null)
        {
            return null;
        }

        using var image = SKImage.FromBitmap(pixels);
        return Preview(image);
    }

    private static byte[] Preview(SKImage snapshot)
    {
        var (width, height) = (snapshot.Width, snapshot.Height);
        var scale = Math.Min(1f, (float)PreviewSize / Math.Max(width, height));
        var info = new SKImageInfo(Math.Max(1, (int)MathF.Round(width * scale)), Math.Max(1, (int)MathF.Round(height * scale)), SKColorType.Rgba8888, SKAlphaType.Premul);
        using var small = new SKBitmap(info);
        using (var pixels = small.PeekPixels())
        {
            snapshot.ScalePixels(pixels, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
        }

        using var data = small.Encode(SKEncodedImageFormat.Webp, 60);
        return data.ToArray();
    }

    /// <summary>Renders all steps at once (or only the first <paramref name="steps"/>: the picture part way), with no pacing and no progress.</summary>
    public static RenderedImage Render(SketchRequest request, int steps = StepCount) =>
        RenderAsync(request, static (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, CancellationToken.None, null, steps).GetAwaiter().GetResult();

    /// <summary>Draws the layers. All randomness comes from one generator seeded by the prompt and the seed.</summary>
    private sealed class Painter
    {
        private readonly SKCanvas _canvas;
        private readonly float _w;
        private readonly float _h;
        private readonly DeterministicRandom _random;
        private readonly float _baseHue;
        private readonly bool _night;
        private readonly float _horizon;

        public Painter(SKCanvas canvas, SketchRequest request)
        {
            _canvas = canvas;
            _w = request.Width;
            _h = request.Height;
            _random = DeterministicRandom.From(request.Prompt, request.Seed);
            _baseHue = _random.NextFloat(0, 360);
            _night = request.Prompt.Contains("night", StringComparison.OrdinalIgnoreCase) || _random.NextFloat(0, 1) < 0.3f;
            _horizon = _h * _random.NextFloat(0.45f, 0.7f);
        }

        public void Paint(int step)
        {
            switch (step)
            {
                case 1: Sky(); break;
                case 2: Stars(); break;
                case 3: Light(); break;
                case 4: Ridge(minHeight: 0.12f, maxHeight: 0.3f, lightness: _night ? 24 : 60); break;
                case 5: Ridge(minHeight: 0.03f, maxHeight: 0.12f, lightness: _night ? 14 : 38); break;
                case 6: Water(); break;
                case 7: Trees(); break;
                default: Finish(); break;
            }
        }

        private SKColor Hsl(float hueOffset, float saturation, float lightness, byte alpha = 255) =>
            SKColor.FromHsl((_baseHue + hueOffset + 360) % 360, saturation, lightness, alpha);

        private void Sky()
        {
            using var paint = new SKPaint { IsAntialias = true };
            paint.Shader = SKShader.CreateLinearGradient(
                new SKPoint(0, 0), new SKPoint(0, _horizon),
                [Hsl(0, 55, _night ? 10 : 55), Hsl(40, 70, _night ? 28 : 82)],
                SKShaderTileMode.Clamp);
            _canvas.DrawRect(0, 0, _w, _h, paint);
        }

        private void Light()
        {
            var x = _w * _random.NextFloat(0.15f, 0.85f);
            var y = _horizon * _random.NextFloat(0.2f, 0.7f);
            var r = Math.Min(_w, _h) * _random.NextFloat(0.05f, 0.12f);
            using var glow = new SKPaint { IsAntialias = true };
            glow.Shader = SKShader.CreateRadialGradient(new SKPoint(x, y), r * 4,
                [Hsl(60, 90, 85, 160), Hsl(60, 90, 85, 0)], SKShaderTileMode.Clamp);
            _canvas.DrawCircle(x, y, r * 4, glow);
            using var disc = new SKPaint { IsAntialias = true, Color = _night ? new SKColor(235, 235, 220) : Hsl(50, 95, 88) };
            _canvas.DrawCircle(x, y, r, disc);
        }

        private void Ridge(float minHeight, float maxHeight, float lightness)
        {
            for (var layer = 0; layer < 2; layer++)
            {
                var baseY = _horizon - (_h * _random.NextFloat(minHeight, maxHeight) * (1 - (layer * 0.3f)));
                using var builder = new SKPathBuilder();
                builder.MoveTo(0, _horizon);
                var points = 4 + _random.Next(8);
                for (var i = 0; i <= points; i++)
                {
                    var x = _w * i / points;
                    var y = baseY + (_h * _random.NextFloat(-maxHeight, maxHeight) * 0.4f);
                    builder.LineTo(x, Math.Min(y, _horizon));
                }

                builder.LineTo(_w, _horizon);
                builder.Close();
                using var path = builder.Detach();
                using var paint = new SKPaint { IsAntialias = true, Color = Hsl(200 + (layer * 15), 30, lightness - (layer * 6)) };
                _canvas.DrawPath(path, paint);
            }
        }

        private void Water()
        {
            using var paint = new SKPaint { IsAntialias = true };
            paint.Shader = SKShader.CreateLinearGradient(
                new SKPoint(0, _horizon), new SKPoint(0, _h),
                [Hsl(190, 50, _night ? 18 : 45), Hsl(210, 60, _night ? 6 : 25)],
                SKShaderTileMode.Clamp);
            _canvas.DrawRect(0, _horizon, _w, _h - _horizon, paint);

            using var ripple = new SKPaint { IsAntialias = true, Color = Hsl(40, 60, 90, 90), StrokeWidth = Math.Max(1, _h / 256) };
            var count = 6 + _random.Next(10);
            for (var i = 0; i < count; i++)
            {
                var y = _random.NextFloat(_horizon, _h);
                var x = _random.NextFloat(0, _w);
                var len = _w * _random.NextFloat(0.03f, 0.15f);
                _canvas.DrawLine(x, y, x + len, y, ripple);
            }
        }

        private void Trees()
        {
            using var paint = new SKPaint { IsAntialias = true, Color = Hsl(120, 35, _night ? 6 : 18) };
            var count = 3 + _random.Next(9);
            for (var i = 0; i < count; i++)
            {
                var x = _random.NextFloat(0, _w);
                var height = _h * _random.NextFloat(0.08f, 0.25f);
                var half = height * 0.25f;
                using var builder = new SKPathBuilder();
                builder.MoveTo(x, _horizon - height);
                builder.LineTo(x - half, _horizon);
                builder.LineTo(x + half, _horizon);
                builder.Close();
                using var path = builder.Detach();
                _canvas.DrawPath(path, paint);
            }
        }

        private void Stars()
        {
            using var paint = new SKPaint { IsAntialias = true, Color = new SKColor(255, 255, 240, (byte)(_night ? 230 : 90)) };
            var count = (int)(_w * _h / (_night ? 900 : 6000)) + _random.Next(20);
            for (var i = 0; i < count; i++)
            {
                var x = _random.NextFloat(0, _w);
                var y = _random.NextFloat(0, _horizon * 0.85f);
                _canvas.DrawCircle(x, y, _random.NextFloat(0.4f, 1.4f) * Math.Max(1, _w / 512), paint);
            }
        }

        private void Finish()
        {
            using var vignette = new SKPaint { IsAntialias = true };
            vignette.Shader = SKShader.CreateRadialGradient(new SKPoint(_w / 2, _h / 2), Math.Max(_w, _h) * 0.75f,
                [new SKColor(0, 0, 0, 0), new SKColor(0, 0, 0, 120)], SKShaderTileMode.Clamp);
            _canvas.DrawRect(0, 0, _w, _h, vignette);
        }
    }

    /// <summary>
    /// xoshiro128** seeded from SHA-256(prompt, seed): the same sequence on every platform and runtime version,
    /// which <see cref="Random"/> does not promise.
    /// </summary>
    private sealed class DeterministicRandom
    {
        private uint _s0, _s1, _s2, _s3;

        private DeterministicRandom(ReadOnlySpan<byte> seed)
        {
            _s0 = BinaryPrimitives.ReadUInt32LittleEndian(seed);
            _s1 = BinaryPrimitives.ReadUInt32LittleEndian(seed[4..]);
            _s2 = BinaryPrimitives.ReadUInt32LittleEndian(seed[8..]);
            _s3 = BinaryPrimitives.ReadUInt32LittleEndian(seed[12..]);
            if ((_s0 | _s1 | _s2 | _s3) == 0)
            {
                _s0 = 1;
            }
        }

        public static DeterministicRandom From(string prompt, long seed)
        {
            var text = Encoding.UTF8.GetBytes(prompt);
            var input = new byte[text.Length + sizeof(long)];
            text.CopyTo(input, 0);
            BinaryPrimitives.WriteInt64LittleEndian(input.AsSpan(text.Length), seed);
            return new DeterministicRandom(SHA256.HashData(input));
        }

        public uint NextUInt()
        {
            var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 9;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = BitOperations.RotateLeft(_s3, 11);
            return result;
        }

        public int Next(int maxExclusive) => (int)(NextUInt() % (uint)maxExclusive);

        public float NextFloat(float min, float max) => min + ((max - min) * (NextUInt() >> 8) / (1 << 24));
    }
}
