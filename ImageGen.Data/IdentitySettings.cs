using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImageGen.Data;

/// <summary>Account rules, the same wherever accounts are created (the API, and the admin seed).</summary>
public static class IdentitySettings
{
    public static void Configure(IdentityOptions options)
    {
        options.User.RequireUniqueEmail = true;
        options.Password.RequiredLength = 8;
        options.Password.RequireNonAlphanumeric = false;
        options.Lockout.AllowedForNewUsers = true;
        options.Lockout.MaxFailedAccessAttempts = 5;
        options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
    }

    /// <summary>Accounts, roles and their store, with the password hashing cost from <see cref="PasswordHashingOptions"/>.</summary>
    public static IdentityBuilder AddImageGenIdentity(this IServiceCollection services)
    {
        services.AddOptions<PasswordHashingOptions>().BindConfiguration(PasswordHashingOptions.Section)
            .Validate(o => o.HashIterations is >= PasswordHashingOptions.MinHashIterations and <= PasswordHashingOptions.MaxHashIterations,
                $"{PasswordHashingOptions.Section}:HashIterations must be from {PasswordHashingOptions.MinHashIterations} to {PasswordHashingOptions.MaxHashIterations}.")
            .ValidateOnStart();
        services.AddOptions<PasswordHasherOptions>().Configure<IOptions<PasswordHashingOptions>>(
            (hasher, passwords) => hasher.IterationCount = passwords.Value.HashIterations);
        return services.AddIdentityCore<ImageGenUser>(Configure)
            .AddRoles<IdentityRole<Guid>>()
            .AddEntityFrameworkStores<ImageGenDbContext>();
    }
}

/// <summary>How passwords are hashed (section <c>Passwords</c>; the AppHost passes <c>ImageGen:Passwords:*</c>).</summary>
public sealed class PasswordHashingOptions
{
    public const string Section = "Passwords";
    public const int MinHashIterations = 1_000;
    public const int MaxHashIterations = 10_000_000;

    /// <summary>
    /// PBKDF2 (HMAC-SHA512) iterations per hash: 100,000 by default, as ASP.NET Core Identity. Each sign-up and
    /// sign-in costs one hash, about 80 ms of CPU at the default on a small server core. Raise it as cores get faster;
    /// throw-away test graphs lower it, since their accounts die with them. A stored hash keeps its own count: a raised
    /// count reaches an existing password at its next sign-in, when Identity hashes it again.
    /// </summary>
    public int HashIterations { get; set; } = 100_000;
}
