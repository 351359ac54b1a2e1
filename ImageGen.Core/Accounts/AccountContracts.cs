namespace ImageGen.Core.Accounts;

public sealed record CredentialsRequest
{
    public string? Email { get; init; }
    public string? Password { get; init; }
}

public sealed record RefreshRequest
{
    public string? RefreshToken { get; init; }
}

public sealed record ChangePasswordRequest
{
    public string? CurrentPassword { get; init; }
    public string? NewPassword { get; init; }

    /// <summary>
    /// Keep the account's API keys working. By default a password change revokes them too: whoever learned the old
    /// password may have made one.
    /// </summary>
    public bool? KeepApiKeys { get; init; }
}

/// <summary>What <c>/api/auth/login</c> and <c>/api/auth/refresh</c> return.</summary>
public sealed record TokenResponse(string TokenType, string AccessToken, long ExpiresIn, string RefreshToken);

/// <summary>Who is signed in. A new account holds no credits until <paramref name="EmailVerified"/>: the sign-up grant comes with it.</summary>
public sealed record MeDto(Guid Id, string Email, IReadOnlyList<string> Roles, int Balance, int Reserved, bool EmailVerified = true);

/// <summary>The two parts of a link from account mail: <c>?user=...&amp;token=...</c>.</summary>
public sealed record VerifyEmailRequest
{
    public Guid? UserId { get; init; }
    public string? Token { get; init; }
}

/// <summary>What verifying an address did: the credits it granted (0 when the address was verified before).</summary>
public sealed record VerifyEmailResponse(bool EmailVerified, int Granted);

public sealed record ForgotPasswordRequest
{
    public string? Email { get; init; }
}

/// <summary>What asking for a password reset answers, whether or not the address has an account.</summary>
public sealed record ForgotPasswordResponse(string Message);

public sealed record ResetPasswordRequest
{
    public Guid? UserId { get; init; }
    public string? Token { get; init; }
    public string? NewPassword { get; init; }

    /// <summary>As for a password change: the account's API keys are revoked unless this is true.</summary>
    public bool? KeepApiKeys { get; init; }
}

public sealed record UserSummaryDto(Guid Id, string Email, IReadOnlyList<string> Roles, int Balance, DateTimeOffset CreatedAt);

/// <summary>
/// A request for a sensitive action: without a sign-in in the last few minutes it must carry the current password
/// (<c>403 reauthentication_required</c> otherwise).
/// </summary>
public interface IConfirmsPassword
{
    string? CurrentPassword { get; }
}

public sealed record CreateApiKeyRequest : IConfirmsPassword
{
    /// <summary>Needed when the session signed in more than 5 minutes ago.</summary>
    public string? CurrentPassword { get; init; }

    public string? Name { get; init; }

    /// <summary>What the key may do (<see cref="ApiKeyScopes"/>); none named means <see cref="ApiKeyScopes.Default"/>.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }

    /// <summary>Days until the key stops working by itself (1 to 365); none means it works until revoked.</summary>
    public int? ExpiresInDays { get; init; }

    /// <summary>The most credits the key's quests may reserve in a calendar month (UTC); none means no cap but the balance.</summary>
    public int? MonthlySpendCap { get; init; }
}

/// <summary>An API key as listed: never the secret, only its prefix.</summary>
public sealed record ApiKeyDto(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt)
{
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public DateTimeOffset? ExpiresAt { get; init; }
    public int? MonthlySpendCap { get; init; }
}

/// <summary>The answer to creating a key: the only time <see cref="Key"/> is shown.</summary>
public sealed record CreatedApiKeyDto(Guid Id, string Name, string Prefix, string Key, DateTimeOffset CreatedAt)
{
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public DateTimeOffset? ExpiresAt { get; init; }
    public int? MonthlySpendCap { get; init; }
}

public static class Roles
{
    public const string Admin = "admin";
}

/// <summary>
/// The account's default fallback models (<c>GET</c>/<c>PUT /api/account/fallbacks</c>): up to three, tried in order
/// for a new image whose own model is unavailable when the request names none. Empty: off (the default).
/// </summary>
public sealed record FallbackSettingsDto(IReadOnlyList<string>? Models);
