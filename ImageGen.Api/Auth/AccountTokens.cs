using ImageGen.Data.Entities;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Auth;

/// <summary>
/// The signed, expiring tokens of account mail. Both are Identity's data protection tokens (they name the account and
/// its security stamp, so a password change voids them); each has its own purpose and lifespan: a verification link
/// for a few days, a reset link for an hour.
/// </summary>
internal static class AccountTokens
{
    public const string VerificationProvider = "EmailVerification";
    public static readonly TimeSpan VerificationLifespan = TimeSpan.FromDays(3);
    public static readonly TimeSpan ResetLifespan = TimeSpan.FromHours(1);

    public static IdentityBuilder AddAccountTokens(this IdentityBuilder identity)
    {
        identity.AddDefaultTokenProviders().AddTokenProvider<VerificationTokenProvider>(VerificationProvider);
        identity.Services.Configure<IdentityOptions>(o => o.Tokens.EmailConfirmationTokenProvider = VerificationProvider);
        identity.Services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = ResetLifespan);
        identity.Services.Configure<VerificationTokenOptions>(o =>
        {
            o.Name = VerificationProvider;
            o.TokenLifespan = VerificationLifespan;
        });
        return identity;
    }
}

internal sealed class VerificationTokenOptions : DataProtectionTokenProviderOptions;

internal sealed class VerificationTokenProvider(IDataProtectionProvider protection, IOptions<VerificationTokenOptions> options, ILogger<DataProtectorTokenProvider<ImageGenUser>> logger)
    : DataProtectorTokenProvider<ImageGenUser>(protection, options, logger);
