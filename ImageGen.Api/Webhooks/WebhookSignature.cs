using System.Globalization;
using System.Security.Cryptography;
using ImageGen.Data.Entities;
using StandardWebhooks;

namespace ImageGen.Api.Webhooks;

/// <summary>
/// Standard Webhooks signing: <c>webhook-id</c>, <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature</c>
/// (<c>v1,</c> and the base64 HMAC-SHA256 of <c>id.timestamp.body</c> under the secret). Within a day of a rotation the
/// header carries two signatures, the new secret's first, so receivers can switch secrets without losing a delivery.
/// </summary>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    private const string SecretPrefix = "whsec_";

    /// <summary>A new secret: 32 random bytes, base64, with the customary <c>whsec_</c> prefix.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The message id a delivery is sent under, the same on every retry.</summary>
    public static string MessageId(Guid deliveryId) => "msg_" + deliveryId.ToString("N");

    /// <summary>The three headers for <paramref name="body"/> sent at <paramref name="at"/>, signed with one secret.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Headers(string secret, string messageId, DateTimeOffset at, string body) =>
    [
        new(IdHeader, messageId),
        new(TimestampHeader, at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
        new(SignatureHeader, new StandardWebhook(secret).Sign(messageId, at, body)),
    ];

    /// <summary>The three headers for <paramref name="body"/> sent at <paramref name="at"/>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Headers(WebhookEndpoint secrets, string messageId, DateTimeOffset at, string body, TimeSpan overlap)
    {
        var signature = new StandardWebhook(secrets.Secret).Sign(messageId, at, body);
        if (secrets.PreviousSecret is { } previous && secrets.RotatedAt is { } rotated && at - rotated < overlap)
        {
            signature += " " + new StandardWebhook(previous).Sign(messageId, at, body);
        }

        return
        [
            new(IdHeader, messageId),
            new(TimestampHeader, at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new(SignatureHeader, signature),
        ];
    }
}
