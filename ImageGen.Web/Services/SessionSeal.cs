using System.Security.Cryptography;
using System.Text;

namespace ImageGen.Web.Services;

/// <summary>
/// Seals a session's tokens with a key only the session's cookie can give. The session id (24 random bytes, inside
/// the protected cookie) is never stored: Redis holds a lookup name derived from it one way and the tokens sealed
/// with AES-GCM under a second key derived from it. Whoever reads Redis (including the cookie key ring kept there)
/// learns neither the id nor a token; a forged cookie with a made-up id finds nothing.
/// </summary>
public static class SessionSeal
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly byte[] LookupPurpose = Encoding.ASCII.GetBytes("imagegen web session lookup");
    private static readonly byte[] SealPurpose = Encoding.ASCII.GetBytes("imagegen web session tokens");

    /// <summary>The name a session is stored under: not reversible to the session id.</summary>
    public static string LookupName(string sessionId) =>
        Convert.ToHexStringLower(HKDF.DeriveKey(HashAlgorithmName.SHA256, Secret(sessionId), 20, info: LookupPurpose));

    public static string Seal(string sessionId, string plain)
    {
        var plainBytes = Encoding.UTF8.GetBytes(plain);
        var sealedBytes = new byte[NonceBytes + TagBytes + plainBytes.Length];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Key(sessionId), TagBytes);
        aes.Encrypt(nonce, plainBytes, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes));
        return Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The plain text, or null when the value was not sealed for this session or was altered.</summary>
    public static string? Open(string sessionId, string sealedText)
    {
        byte[] sealedBytes;
        try
        {
            sealedBytes = Convert.FromBase64String(sealedText);
        }
        catch (FormatException)
        {
            return null;
        }

        if (sealedBytes.Length < NonceBytes + TagBytes)
        {
            return null;
        }

        var plain = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(Key(sessionId), TagBytes);
        try
        {
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes + TagBytes),
                sealedBytes.AsSpan(NonceBytes, TagBytes), plain);
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return Encoding.UTF8.GetString(plain);
    }

    private static byte[] Key(string sessionId) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Secret(sessionId), 32, info: SealPurpose);

    private static byte[] Secret(string sessionId) => Encoding.UTF8.GetBytes(sessionId);
}
