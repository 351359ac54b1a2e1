using System.Security.Cryptography;
using System.Text;

namespace ImageGen.Api.Auth;

/// <summary>
/// Personal API keys look like <c>igk_</c> followed by 40 random hex characters. The first 12 characters are the
/// public prefix (shown in lists, used to find the key); only a SHA-256 hash of the whole key is stored.
/// </summary>
internal static class ApiKeyFormat
{
    public const string Marker = "igk_";
    public const int PrefixLength = 12;
    private const int SecretBytes = 20;

    public static bool LooksLikeKey(string? credential) =>
        credential is not null && credential.StartsWith(Marker, StringComparison.Ordinal);

    public static string NewKey() => Marker + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretBytes));

    public static string PrefixOf(string key) => key[..Math.Min(PrefixLength, key.Length)];

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool IsWellFormed(string key) =>
        key.Length == Marker.Length + (SecretBytes * 2) && key[Marker.Length..].All(char.IsAsciiHexDigitLower);

    /// <summary>Compares hashes in constant time, so timing reveals nothing about a stored hash.</summary>
    public static bool Matches(string key, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(key)), Encoding.ASCII.GetBytes(storedHash));
}
