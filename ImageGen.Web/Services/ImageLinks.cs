using System.Globalization;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;

namespace ImageGen.Web.Services;

/// <summary>
/// The signed links of one image: the original and its smaller widths. Picks the link for a display width and
/// writes the <c>srcset</c>, so the page, the gallery and the link refresh all choose the same way.
/// </summary>
public sealed record ImageLinks(Guid Id, string Url, int Width, int Height, IReadOnlyList<ImageVariantUrl> Variants)
{
    public static ImageLinks From(QuestImageDto image) => new(image.Id, image.Url, image.Width, image.Height, image.Variants);

    public static ImageLinks From(ImageDto image) => new(image.Id, image.Url, image.Width, image.Height, image.Variants);

    public static ImageLinks From(Guid id, SignedUrlResponse fresh) => new(id, fresh.Url, fresh.Width, fresh.Height, fresh.Variants);

    /// <summary>The smallest link at least <paramref name="displayWidth"/> wide; the original when none is.</summary>
    public string Src(int displayWidth) =>
        Variants.Where(v => v.Width >= displayWidth).OrderBy(v => v.Width).FirstOrDefault()?.Url ?? Url;

    /// <summary>Every width with its link, the original last, for the browser to choose by screen and density.</summary>
    public string SrcSet() =>
        string.Join(", ", Variants.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Url} {v.Width}w"))
            .Append(string.Create(CultureInfo.InvariantCulture, $"{Url} {Width}w")));
}
