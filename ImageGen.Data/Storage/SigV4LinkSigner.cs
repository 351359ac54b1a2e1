using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ImageGen.Data.Storage;

/// <summary>
/// Signs object links the way S3 checks them (Signature Version 4 in the query string, AWS's "presigned URL"):
/// a GET of one object, valid until a given moment, checked by the store itself. Written here rather than taken
/// from the SDK so the signing time can be rounded down: a link made twice within the same few minutes is the same
/// link, and browsers keep what they already downloaded.
/// </summary>
public sealed class SigV4LinkSigner(string accessKey, string secretKey, string region)
{
    private const string Algorithm = "AWS4-HMAC-SHA256";
    private const string Service = "s3";

    /// <summary>The most S3 accepts for X-Amz-Expires: seven days.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(7);

    /// <summary>
    /// A link to GET <paramref name="path"/> (already "/bucket/key" or "/key", unencoded) on <paramref name="origin"/>,
    /// signed at <paramref name="signedAt"/> and valid until <paramref name="expires"/>.
    /// </summary>
    public Uri Sign(Uri origin, string path, DateTimeOffset signedAt, DateTimeOffset expires)
    {
        var signed = DateTimeOffset.FromUnixTimeSeconds(signedAt.ToUnixTimeSeconds());
        var seconds = Math.Clamp(expires.ToUnixTimeSeconds() - signed.ToUnixTimeSeconds(), 1, (long)MaxLifetime.TotalSeconds);
        var date = signed.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var stamp = signed.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var scope = $"{date}/{region}/{Service}/aws4_request";
        var canonicalPath = EncodePath(path);

        // Already in name order, as the canonical request needs them.
        var query = string.Join('&',
            "X-Amz-Algorithm=" + Algorithm,
            "X-Amz-Credential=" + Uri.EscapeDataString($"{accessKey}/{scope}"),
            "X-Amz-Date=" + stamp,
            "X-Amz-Expires=" + seconds.ToString(CultureInfo.InvariantCulture),
            "X-Amz-SignedHeaders=host");
        var canonicalRequest = $"GET\n{canonicalPath}\n{query}\nhost:{origin.Authority}\n\nhost\nUNSIGNED-PAYLOAD";
        var stringToSign = $"{Algorithm}\n{stamp}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), date);
        key = Hmac(key, region);
        key = Hmac(key, Service);
        key = Hmac(key, "aws4_request");
        var signature = Convert.ToHexStringLower(Hmac(key, stringToSign));
        return new Uri($"{origin.Scheme}://{origin.Authority}{canonicalPath}?{query}&X-Amz-Signature={signature}");
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    /// <summary>Each segment percent-encoded (RFC 3986 unreserved characters kept), the slashes between them kept.</summary>
    private static string EncodePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}
