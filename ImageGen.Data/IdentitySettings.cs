using Microsoft.AspNetCore.Identity;

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
}
