using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Rendering;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Images;

public sealed class ImageSigningOptions
{
    public const string Section = "ImageGen:Images";

    /// <summary>The HMAC key (an Aspire secret parameter). Every API instance must share it.</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>How long a URL in an API response stays valid.</summary>
    public TimeSpan UrlLifetime { get; set; } = TimeSpan.FromHours(1);
}

public enum SignatureCheck
{
    Valid,
    Invalid,
    Expired,
}

/// <summary>
/// Signs image URLs with HMAC-SHA256 over the image id, the variant and the expiry, so an image can be shown in an
/// &lt;img&gt; tag without the viewer's credentials, for a limited time, and for nothing else. With an object store,
/// an original's URL is the store's own signed link instead (the bytes never pass through the API), and a variant's
/// URL is ours: the API makes the variant on its first request and redirects to the store.
/// </summary>
public sealed class ImageUrlSigner
{
    /// <summary>Expiries are rounded up to this step, so URLs stay the same for a while and browsers can cache them.</summary>
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(5);

    private readonly byte[] _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly IDirectLinkStore? _links;

    public ImageUrlSigner(IOptions<ImageSigningOptions> options, TimeProvider time, IImageStore store)
    {
        _key = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.SigningKey));
        _lifetime = options.Value.UrlLifetime;
        _time = time;
        _links = store as IDirectLinkStore;
    }

    /// <summary>The expiry of URLs made now with the default lifetime: rounded up, so they stay the same for a while.</summary>
    public DateTimeOffset DefaultExpiry()
    {
        var expires = _time.GetUtcNow() + _lifetime;
        return DateTimeOffset.FromUnixTimeSeconds((long)Math.Ceiling(expires.ToUnixTimeSeconds() / Step.TotalSeconds) * (long)Step.TotalSeconds);
    }

    /// <summary>A URL of one variant of the image that works until <paramref name="expires"/>.</summary>
    public string UrlFor(Guid imageId, string contentType, ImageVariant variant, DateTimeOffset expires)
    {
        if (variant.IsOriginal && _links is not null)
        {
            return _links.LinkFor(ImageKeys.KeyFor(imageId, ImageEncoding.Extension(contentType)), expires).ToString();
        }

        var exp = expires.ToUnixTimeSeconds();
        var query = variant.Query;
        return $"/images/{imageId:N}?{(query.Length > 0 ? query + "&" : "")}exp={exp.ToString(CultureInfo.InvariantCulture)}&sig={Sign(imageId, variant.Name, exp)}";
    }

    /// <summary>The original's URL and one URL per smaller width (for a srcset), all expiring at <paramref name="expires"/>.</summary>
    public (string Url, IReadOnlyList<ImageVariantUrl> Variants) UrlsFor(Guid imageId, int width, string contentType, DateTimeOffset expires)
    {
        var variants = new List<ImageVariantUrl>(ImageVariant.Widths.Count);
        foreach (var w in ImageVariant.Widths)
        {
            if (w < width)
            {
                variants.Add(new ImageVariantUrl(w, UrlFor(imageId, contentType, new ImageVariant(w, null, null), expires)));
            }
        }

        return (UrlFor(imageId, contentType, ImageVariant.Original, expires), variants);
    }

    /// <summary>The image with its URLs signed (default lifetime).</summary>
    public QuestImageDto Sign(QuestImageDto image)
    {
        var (url, variants) = UrlsFor(image.Id, image.Width, image.ContentType, DefaultExpiry());
        return image with { Url = url, Variants = variants };
    }

    public SignatureCheck Check(Guid imageId, string variant, string? exp, string? sig)
    {
        if (!long.TryParse(exp, NumberStyles.None, CultureInfo.InvariantCulture, out var expires) || string.IsNullOrEmpty(sig))
        {
            return SignatureCheck.Invalid;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(imageId, variant, expires));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(sig)))
        {
            return SignatureCheck.Invalid;
        }

        return _time.GetUtcNow().ToUnixTimeSeconds() > expires ? SignatureCheck.Expired : SignatureCheck.Valid;
    }

    private string Sign(Guid imageId, string variant, long exp) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{imageId:N}|{variant}|{exp.ToString(CultureInfo.InvariantCulture)}")));
}
