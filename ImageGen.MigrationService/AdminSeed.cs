using ImageGen.Core.Accounts;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Identity;

namespace ImageGen.MigrationService;

/// <summary>The first operator, from the AppHost's <c>admin-email</c> and <c>admin-password</c> parameters.</summary>
internal sealed class AdminSeedOptions
{
    public const string Section = "Admin";

    public string? Email { get; set; }
    public string? Password { get; set; }
    public int StartingGrant { get; set; } = 100;
}

/// <summary>Creates the roles, and the first admin when the AppHost names one. Safe to run on every start.</summary>
internal static partial class AdminSeed
{
    public static async Task SeedAsync(IServiceProvider services, AdminSeedOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var roles = services.GetRequiredService<RoleManager<IdentityRole<Guid>>>();
        if (!await roles.RoleExistsAsync(Roles.Admin))
        {
            Check(await roles.CreateAsync(new IdentityRole<Guid>(Roles.Admin) { Id = Guid.CreateVersion7() }));
        }

        if (string.IsNullOrWhiteSpace(options.Email) || string.IsNullOrEmpty(options.Password))
        {
            return;
        }

        var users = services.GetRequiredService<UserManager<ImageGenUser>>();
        var time = services.GetRequiredService<TimeProvider>();
        var admin = await users.FindByEmailAsync(options.Email);
        if (admin is null)
        {
            admin = new ImageGenUser { Id = Guid.CreateVersion7(), UserName = options.Email, Email = options.Email, EmailConfirmed = true, CreatedAt = time.GetUtcNow() };
            Check(await users.CreateAsync(admin, options.Password));
            var db = services.GetRequiredService<ImageGenDbContext>();
            db.CreditEntries.Add(CreditLedger.WelcomeGrant(admin.Id, options.StartingGrant, time.GetUtcNow()));
            await db.SaveChangesAsync(cancellationToken);
            LogCreated(logger, options.Email);
        }
        else if (!await users.CheckPasswordAsync(admin, options.Password))
        {
            // The parameter is the source of truth for the first admin's password.
            Check(await users.RemovePasswordAsync(admin));
            Check(await users.AddPasswordAsync(admin, options.Password));
        }

        if (!await users.IsInRoleAsync(admin, Roles.Admin))
        {
            Check(await users.AddToRoleAsync(admin, Roles.Admin));
        }
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("Seeding the admin failed: " + string.Join("; ", result.Errors.Select(e => e.Description)));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the admin account {Email}")]
    private static partial void LogCreated(ILogger logger, string email);
}
