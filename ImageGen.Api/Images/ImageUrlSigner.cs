using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
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
/// &lt;img&gt; tag without the viewer's credentials, for a limited time, and for nothing else.
/// </summary>
public sealed class ImageUrlSigner
{
    public const string Original = "original";

    /// <summary>Expiries are rounded up to this step, so URLs stay the same for a while and browsers can cache them.</summary>
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(5);

    private readonly byte[] _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    public ImageUrlSigner(IOptions<ImageSigningOptions> options, TimeProvider time)
    {
        _key = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.SigningKey));
        _lifetime = options.Value.UrlLifetime;
        _time = time;
    }

    public string UrlFor(Guid imageId)
    {
        var expires = _time.GetUtcNow() + _lifetime;
        var exp = (long)Math.Ceiling(expires.ToUnixTimeSeconds() / Step.TotalSeconds) * (long)Step.TotalSeconds;
        return $"/images/{imageId:N}?exp={exp.ToString(CultureInfo.InvariantCulture)}&sig={Sign(imageId, Original, exp)}";
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
