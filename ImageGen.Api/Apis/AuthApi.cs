using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Hubs;
using ImageGen.ServiceDefaults;
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
using ImageGen.Api.Limits;
using ImageGen.Api.Mail;

namespace ImageGen.Api.Apis;

internal static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Accounts");
        auth.MapPost("/register", Register).RequireRateLimiting(LimitPolicies.Account).WithName("Register").WithSummary("Create an account and mail a link that verifies its address; the sign-up grant of credits comes with the verification.");
        auth.MapPost("/login", Login).RequireRateLimiting(LimitPolicies.Account).WithName("Login").WithSummary("Exchange email and password for a bearer access token and a refresh token.");
        auth.MapPost("/refresh", Refresh).RequireRateLimiting(LimitPolicies.Account).WithName("Refresh").WithSummary("Exchange a refresh token for new tokens. Each refresh token works once; using one twice ends its session.");
        auth.MapPost("/logout", Logout).RequireRateLimiting(LimitPolicies.Account).WithName("Logout").WithSummary("End every session of the account: refresh tokens, access tokens and live hub connections.").RequireAuthorization(AuthSchemes.SessionPolicy);
        auth.MapPost("/change-password", ChangePassword).RequireRateLimiting(LimitPolicies.Account).WithName("ChangePassword").WithSummary("Change the password; every session, this one included, must sign in again, and the account's API keys are revoked unless keepApiKeys is true.").RequireAuthorization(AuthSchemes.SessionPolicy);
        app.MapGet("/api/me", Me).RequireRateLimiting(LimitPolicies.Read).WithTags("Accounts").WithName("Me").WithSummary("Who is signed in, with roles and balance (a key needs credits:read: it shows the balance).")
            .RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.CreditsRead));
        return app;
    }

    /// <summary>What a sign-up uses.</summary>
    public sealed record RegisterServices(UserManager<ImageGenUser> Users, ImageGenDbContext Db, AccountMail Mail, TimeProvider Time, SignupCap Cap);

    public static async Task<Results<Created<MeDto>, ProblemHttpResult>> Register(
        CredentialsRequest request, HttpContext context, [AsParameters] RegisterServices services, CancellationToken cancellationToken)
    {
        if (ValidateCredentials(request) is { } invalid)
        {
            return invalid;
        }

        if (await services.Cap.TakeAsync(context) is not { } place)
        {
            context.Response.Headers.RetryAfter = "86400";
            return ApiProblems.Status(StatusCodes.Status429TooManyRequests, ErrorCodes.SignupLimit,
                $"At most {services.Cap.PerDay} accounts can be opened from one address in a day.");
        }

        // A sign-up that does not open an account gives its place back.
        var email = request.Email!.Trim();
        (ImageGenUser? User, ProblemHttpResult? Failure) created;
        try
        {
            created = await CreateAccountAsync(email, request.Password!, services, cancellationToken);
        }
        catch
        {
            await services.Cap.GiveBackAsync(place);
            throw;
        }

        if (created.Failure is not null)
        {
            await services.Cap.GiveBackAsync(place);
            return created.Failure;
        }

        await services.Mail.SendVerificationAsync(created.User!);
        return TypedResults.Created("/api/me", new MeDto(created.User!.Id, email, [], 0, 0, EmailVerified: false));
    }

    /// <summary>The account (its grant waits for the email address to be verified); Identity's refusal as a problem.</summary>
    private static async Task<(ImageGenUser? User, ProblemHttpResult? Failure)> CreateAccountAsync(string email, string password, RegisterServices services,
        CancellationToken cancellationToken)
    {
        var user = new ImageGenUser { Id = Guid.CreateVersion7(), UserName = email, Email = email, CreatedAt = services.Time.GetUtcNow() };
        var result = await services.Users.CreateAsync(user, password);
        return result.Succeeded ? (user, null) : (null, IdentityProblem(result.Errors, "password"));
    }

    public static async Task<Results<SignInHttpResult, ProblemHttpResult>> Login(
        CredentialsRequest request, SignInManager<ImageGenUser> signIn, SignInThrottle throttle, HttpContext context, TimeProvider time)
    {
        if (ValidateCredentials(request) is { } invalid)
        {
            return invalid;
        }

        var email = request.Email!.Trim();
        var address = ClientAddress.Of(context);
        if (await throttle.LockedForAsync(email, address) is { } wait)
        {
            return Locked(context, wait);
        }

        var user = await signIn.UserManager.FindByEmailAsync(email);
        // Identity's own lockout (per account, for everyone) stays off: the throttle locks per account and address.
        if (user is null || !(await signIn.CheckPasswordSignInAsync(user, request.Password!, lockoutOnFailure: false)).Succeeded)
        {
            return await throttle.FailedAsync(email, address) is { } locked
                ? Locked(context, locked)
                : ApiProblems.Status(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "The email or the password is wrong.");
        }

        await throttle.SucceededAsync(email, address);
        // A new session: the first of a family of refresh tokens.
        var principal = RecentSignIn.Stamp(SessionGuard.Issue(await signIn.CreateUserPrincipalAsync(user), SessionGuard.NewSession()), time.GetUtcNow());
        return TypedResults.SignIn(principal, authenticationScheme: IdentityConstants.BearerScheme);
    }

    internal static ProblemHttpResult Locked(HttpContext context, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.AccountLocked,
            $"Too many failed sign-ins from here: this account is locked for {seconds} more seconds from your address.");
    }

    public static async Task<Results<SignInHttpResult, ProblemHttpResult>> Refresh(
        RefreshRequest request, SignInManager<ImageGenUser> signIn, IOptionsMonitor<BearerTokenOptions> bearerOptions, SessionGuard sessions, HubSessions hubs,
        TimeProvider time)
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

        // Each refresh token works once. A second use means someone else holds a copy: the whole session ends, live
        // connections included, and whoever really owns it signs in again.
        if (await sessions.SpendAsync(ticket.Principal) is not { } session)
        {
            if (ticket.Principal.FindFirst(SessionGuard.SessionClaim)?.Value is { } ended)
            {
                await hubs.EndSessionAsync(ended);
            }

            return ApiProblems.Status(StatusCodes.Status401Unauthorized, ErrorCodes.RefreshTokenReused,
                "This refresh token was used before, so the session was ended for safety; sign in again.");
        }

        var principal = RecentSignIn.CarryOver(ticket.Principal, SessionGuard.Issue(await signIn.CreateUserPrincipalAsync(user), session));
        return TypedResults.SignIn(principal, authenticationScheme: IdentityConstants.BearerScheme);
    }

    public static async Task<NoContent> Logout(ClaimsPrincipal principal, UserManager<ImageGenUser> users, SessionGuard sessions, HubSessions hubs)
    {
        if (await users.FindByIdAsync(principal.UserId().ToString()) is { } user)
        {
            // A new stamp ends every session of the account: refresh tokens, access tokens and live connections.
            await sessions.StampChangingAsync(user.Id);
            await users.UpdateSecurityStampAsync(user);
            await sessions.StampChangedAsync(user);
            await hubs.EndUserAsync(user.Id);
        }

        return TypedResults.NoContent();
    }

    /// <summary>What a password change uses.</summary>
    public sealed record PasswordServices(UserManager<ImageGenUser> Users, SessionGuard Sessions, HubSessions Hubs, PasswordConfirmation Confirmation,
        ImageGenDbContext Db, TimeProvider Time);

    public static async Task<Results<NoContent, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest request, HttpContext context, [AsParameters] PasswordServices services)
    {
        var (users, sessions, hubs) = (services.Users, services.Sessions, services.Hubs);
        if (string.IsNullOrEmpty(request.CurrentPassword))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "currentPassword", "Enter your current password.");
        }

        if (string.IsNullOrEmpty(request.NewPassword))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "newPassword", "Enter a new password.");
        }

        var user = await users.FindByIdAsync(context.User.UserId().ToString());
        if (user is null)
        {
            return ApiProblems.Status(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "The account no longer exists.");
        }

        if (await services.Confirmation.CheckAsync(user, request.CurrentPassword, context) is { } wrong)
        {
            return wrong;
        }

        await sessions.StampChangingAsync(user.Id);
        var result = await users.ChangePasswordAsync(user, request.CurrentPassword, request.NewPassword);
        if (!result.Succeeded)
        {
            return IdentityProblem(result.Errors, "newPassword");
        }

        // The new stamp ends every session, this one included: whoever knew the old password is out at once; so do the
        // account's API keys unless the owner chose to keep them (their hub connections close with the user's).
        await sessions.StampChangedAsync(user);
        if (request.KeepApiKeys is not true)
        {
            await RevokeKeysAsync(user.Id, services.Db, services.Time);
        }

        await hubs.EndUserAsync(user.Id);
        return TypedResults.NoContent();
    }

    /// <summary>Revokes every active key of the account (a password change, unless the owner keeps them).</summary>
    internal static Task<int> RevokeKeysAsync(Guid userId, ImageGenDbContext db, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return db.ApiKeys.Where(k => k.UserId == userId && k.RevokedAt == null)
            .ExecuteUpdateAsync(k => k.SetProperty(x => x.RevokedAt, now), CancellationToken.None);
    }

    public static async Task<Ok<MeDto>> Me(ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var id = principal.UserId();
        var account = await db.Users.Where(u => u.Id == id).Select(u => new { u.Email, u.EmailConfirmed }).FirstAsync(cancellationToken);
        var roles = principal.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        return TypedResults.Ok(new MeDto(id, account.Email ?? "", roles,
            await db.BalanceAsync(id, cancellationToken),
            await db.ReservedAsync(id, cancellationToken),
            account.EmailConfirmed));
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
    internal static ProblemHttpResult IdentityProblem(IEnumerable<IdentityError> identityErrors, string passwordField)
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
