using ImageGen.Core.Storage;

namespace ImageGen.Tests.Unit;

public sealed class ImageVariantTests
{
    [Fact]
    public void Every_width_format_and_quality_a_caller_can_ask_for_makes_a_small_fixed_number_of_variants()
    {
        // One image, asked for every combination the parser takes: once 48 of them meant 48 renders and 48 files.
        var made = new HashSet<string>();
        var asked = 0;
        foreach (var width in ImageVariant.Widths)
        {
            foreach (var format in ImageVariant.Formats)
            {
                for (var quality = ImageVariant.MinQuality; quality <= ImageVariant.MaxQuality; quality++)
                {
                    Assert.True(ImageVariant.TryParse($"{width}", format, $"{quality}", out var variant, out _));
                    asked++;
                    made.Add($"{variant.Width}.{format}.{ImageVariant.EffectiveQuality(format, variant.Quality ?? ImageVariant.DefaultQuality)}");
                }
            }
        }

        Assert.Equal(ImageVariant.Widths.Count * ImageVariant.Formats.Count * 56, asked);
        // Per width: four qualities for jpeg and webp, one for png.
        Assert.Equal(ImageVariant.Widths.Count * 9, made.Count);
    }

    [Theory]
    [InlineData(40, 50)]
    [InlineData(57, 50)]
    [InlineData(58, 65)]
    [InlineData(85, 80)]
    [InlineData(88, 95)]
    [InlineData(95, 95)]
    public void A_quality_takes_the_nearest_step(int asked, int made) => Assert.Equal(made, ImageVariant.Snap(asked));

    [Fact]
    public void Png_takes_no_quality_and_a_link_for_it_names_none()
    {
        Assert.True(ImageVariant.TryParse("256", "png", "55", out var variant, out _));
        Assert.Null(variant.Quality);
        Assert.Equal(0, ImageVariant.EffectiveQuality("png", 55));
    }
}
