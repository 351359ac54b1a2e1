using SkiaSharp;

namespace ImageGen.Rendering;

/// <summary>Edits: the painting laid over a source image through a mask.</summary>
public static partial class SketchRenderer
{
    /// <summary>
    /// An edit's output: the source, with the painting laid over it through the editable area (the mask's transparent
    /// pixels; everything, at partial opacity, without a mask).
    /// </summary>
    private sealed class EditLayer : IDisposable
    {
        /// <summary>Without a mask the whole picture changes, but the source still shows through this much.</summary>
        private const byte UnmaskedOpacity = 170;

        private static readonly SKSamplingOptions Sampling = new(SKFilterMode.Nearest, SKMipmapMode.None);

        private readonly SKImage _source;
        private readonly SKImage _area;

        private EditLayer(SKSurface output, SKImage source, SKImage area)
        {
            Output = output;
            _source = source;
            _area = area;
        }

        public SKSurface Output { get; }

        public static EditLayer Create(SketchRequest request, SKImageInfo info)
        {
            var source = Scaled(request.Source!, info) ?? throw new ArgumentException("The source image could not be decoded.", nameof(request));
            using var area = new SKBitmap(info.Width, info.Height, SKColorType.Alpha8, SKAlphaType.Premul);
            if (request.Mask is { } maskBytes)
            {
                using var mask = Scaled(maskBytes, info) ?? throw new ArgumentException("The mask could not be decoded.", nameof(request));
                using var pixels = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
                mask.ReadPixels(pixels.Info, pixels.GetPixels(), pixels.RowBytes, 0, 0);
                var rgba = pixels.Bytes;
                var alphas = new byte[info.Width * info.Height];
                for (var i = 0; i < alphas.Length; i++)
                {
                    // Transparent in the mask: paint here. Opaque: keep the source.
                    alphas[i] = (byte)(255 - rgba[(i * 4) + 3]);
                }

                for (var y = 0; y < info.Height; y++)
                {
                    System.Runtime.InteropServices.Marshal.Copy(alphas, y * info.Width, area.GetPixels() + (y * area.RowBytes), info.Width);
                }
            }
            else
            {
                area.Erase(new SKColor(0, 0, 0, UnmaskedOpacity));
            }

            var output = SKSurface.Create(info) ?? throw new InvalidOperationException($"Could not create a {info.Width}x{info.Height} surface.");
            return new EditLayer(output, source, SKImage.FromBitmap(area));
        }

        /// <summary>The source, then the painting so far through the editable area.</summary>
        public void Compose(SKSurface painting)
        {
            var canvas = Output.Canvas;
            canvas.Clear();
            canvas.DrawImage(_source, 0, 0, Sampling);
            using var layer = painting.Snapshot();
            canvas.SaveLayer();
            canvas.DrawImage(layer, 0, 0, Sampling);
            using var keep = new SKPaint { BlendMode = SKBlendMode.DstIn };
            canvas.DrawImage(_area, 0, 0, Sampling, keep);
            canvas.Restore();
        }

        private static SKImage? Scaled(byte[] bytes, SKImageInfo info)
        {
            using var decoded = ImageDecoder.TryDecode(bytes, DecodeLimits.Default);
            if (decoded is null)
            {
                return null;
            }

            using var scaled = new SKBitmap(info);
            decoded.ScalePixels(scaled, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
            return SKImage.FromBitmap(scaled);
        }

        public void Dispose()
        {
            Output.Dispose();
            _source.Dispose();
            _area.Dispose();
        }
    }
}
