namespace ImageGen.Data.Entities;

/// <summary>A personal API key. Only a SHA-256 hash of the secret is stored; the prefix identifies it in lists.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Name { get; set; }
    public required string Prefix { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>What the key may do, space-separated (see <c>ApiKeyScopes</c>).</summary>
    public required string Scopes { get; set; }

    /// <summary>When the key stops working by itself; null for never.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>The most credits the key's quests may take in a calendar month (UTC), enforced in the submit; null for no cap.</summary>
    public int? MonthlySpendCap { get; set; }
}
