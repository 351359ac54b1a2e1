using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Apis;

internal static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Accounts");
        auth.MapPost("/register", Register).WithName("Register").WithSummary("Create an account; it starts with a grant of credits.");
        auth.MapPost("/login", Login).WithName("Login").WithSummary("Exchange email and password for a bearer access token and a refresh token.");
        auth.MapPost("/refresh", Refresh).WithName("Refresh").WithSummary("Exchange a refresh token for new tokens.");
        auth.MapPost("/logout", Logout).WithName("Logout").WithSummary("Revoke every refresh token of the account.").RequireAuthorization();
        auth.MapPost("/change-password", ChangePassword).WithName("ChangePassword").WithSummary("Change the password; other sessions must sign in again.").RequireAuthorization();
        app.MapGet("/api/me", Me).WithTags("Accounts").WithName("Me").WithSummary("Who is signed in, with roles and balance.").RequireAuthorization();
        return app;
    }

    public static async Task<Results<Created<MeDto>, ProblemHttpResult>> Register(
        CredentialsRequest request, UserManager<ImageGenUser> users, ImageGenDbContext db, IOptions<CreditOptions> credits, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ValidateCredentials(request) is { } invalid)
        {
            return invalid;
        }

        var email = request.Email!.Trim();
        ProblemHttpResult? failure = null;
        ImageGenUser? user = null;
        // The account and its starting grant commit together, or not at all.
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            user = new ImageGenUser { Id = Guid.CreateVersion7(), UserName = email, Email = email, CreatedAt = time.GetUtcNow() };
            var result = await users.CreateAsync(user, request.Password!);
            if (!result.Succeeded)
            {
                failure = IdentityProblem(result.Errors, "password");
                return;
            }

            db.CreditEntries.Add(CreditLedger.Entry(user.Id, CreditEntryKind.Grant, credits.Value.StartingGrant, time.GetUtcNow(), reason: "Welcome grant"));
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });

        return failure ?? (Results<Created<MeDto>, ProblemHttpResult>)TypedResults.Created("/api/me",
            new MeDto(user!.Id, email, [], credits.Value.StartingGrant, 0));
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> Login(
        CredentialsRequest request, SignInManager<ImageGenUser> signIn, HttpContext context)
    {
        if (ValidateCredentials(request) is { } invalid)
        {
            return invalid;
        }

        signIn.AuthenticationScheme = IdentityConstants.BearerScheme;
        var result = await signIn.PasswordSignInAsync(request.Email!.Trim(), request.Password!, isPersistent: false, lockoutOnFailure: true);
        if (result.IsLockedOut)
        {
            var user = await signIn.UserManager.FindByEmailAsync(request.Email.Trim());
            var end = user?.LockoutEnd ?? DateTimeOffset.UtcNow.AddMinutes(5);
            var seconds = Math.Max(1, (int)Math.Ceiling((end - DateTimeOffset.UtcNow).TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.AccountLocked,
                $"Too many failed sign-ins: the account is locked for {seconds} more seconds.");
        }

        if (!result.Succeeded)
        {
            return ApiProblems.Status(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "The email or the password is wrong.");
        }

        // The bearer-token handler has written the tokens to the response.
        return TypedResults.Empty;
    }

    public static async Task<Results<SignInHttpResult, ProblemHttpResult>> Refresh(
        RefreshRequest request, SignInManager<ImageGenUser> signIn, IOptionsMonitor<BearerTokenOptions> bearerOptions, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "refreshToken", "Send the refresh token from login.");
        }

        var ticket = bearerOptions.Get(IdentityConstants.BearerScheme).RefreshTokenProtector.Unprotect(request.RefreshToken);
        // The security stamp changes on logout and password change, which revokes every refresh token issued before.
        if (ticket?.Properties.ExpiresUtc is not { } expires || time.GetUtcNow() >= expires
            || await signIn.ValidateSecurityStampAsync(ticket.Principal) is not { } user)
        {
            return ApiProblems.Status(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidRefreshToken, "The refresh token is not valid any more; sign in again.");
        }

        var principal = await signIn.CreateUserPrincipalAsync(user);
        return TypedResults.SignIn(principal, authenticationScheme: IdentityConstants.BearerScheme);
    }

    public static async Task<NoContent> Logout(ClaimsPrincipal principal, UserManager<ImageGenUser> users)
    {
        if (await users.FindByIdAsync(principal.UserId().ToString()) is { } user)
        {
            await users.UpdateSecurityStampAsync(user);
        }

        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest request, ClaimsPrincipal principal, UserManager<ImageGenUser> users)
    {
        if (string.IsNullOrEmpty(request.CurrentPassword))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "currentPassword", "Enter your current password.");
        }

        if (string.IsNullOrEmpty(request.NewPassword))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "newPassword", "Enter a new password.");
        }

        var user = await users.FindByIdAsync(principal.UserId().ToString());
        if (user is null)
        {
            return ApiProblems.Status(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "The account no longer exists.");
        }

        var result = await users.ChangePasswordAsync(user, request.CurrentPassword, request.NewPassword);
        return result.Succeeded ? TypedResults.NoContent() : IdentityProblem(result.Errors, "newPassword");
    }

    public static async Task<Ok<MeDto>> Me(ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var id = principal.UserId();
        var email = await db.Users.Where(u => u.Id == id).Select(u => u.Email).FirstAsync(cancellationToken);
        var roles = principal.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        return TypedResults.Ok(new MeDto(id, email ?? "", roles,
            await db.BalanceAsync(id, cancellationToken),
            await db.ReservedAsync(id, cancellationToken)));
    }

    private static ProblemHttpResult? ValidateCredentials(CredentialsRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Email))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "email", "Enter your email address.");
        }

        if (!new EmailAddressAttribute().IsValid(request.Email.Trim()) || request.Email.Length > 256)
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidEmail, "email", $"'{request.Email}' is not an email address.");
        }

        return string.IsNullOrEmpty(request.Password)
            ? ApiProblems.BadRequest(ErrorCodes.Required, "password", "Enter a password.")
            : null;
    }

    /// <summary>Identity's error codes become ours: a taken email is a conflict, a weak password lists every rule it broke.</summary>
    private static ProblemHttpResult IdentityProblem(IEnumerable<IdentityError> identityErrors, string passwordField)
    {
        var errors = identityErrors.ToList();
        if (errors.Any(e => e.Code is "DuplicateEmail" or "DuplicateUserName"))
        {
            return ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.EmailTaken, "An account with this email already exists. Sign in instead.", "email");
        }

        if (errors.Any(e => e.Code is "InvalidEmail" or "InvalidUserName"))
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidEmail, "email", "That is not an email address we can use.");
        }

        if (errors.Any(e => e.Code == "PasswordMismatch"))
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidCredentials, "currentPassword", "The current password is wrong.");
        }

        return ApiProblems.Validation([.. errors.Select(e => new FieldError(
            e.Code.StartsWith("Password", StringComparison.Ordinal) ? passwordField : "body",
            e.Code.StartsWith("Password", StringComparison.Ordinal) ? ErrorCodes.WeakPassword : ErrorCodes.ValidationFailed,
            e.Description))]);
    }
}
