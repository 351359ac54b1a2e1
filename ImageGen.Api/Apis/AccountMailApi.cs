using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Limits;
using ImageGen.Api.Mail;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Apis;

/// <summary>
/// What account mail links to: verifying the address (which gives the sign-up grant) and setting a new password.
/// Asking for mail is limited per caller address (the endpoint's policy) and per email address (<see cref="MailCap"/>).
/// </summary>
internal static class AccountMailApi
{
    public static IEndpointRouteBuilder MapAccountMailApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Accounts").RequireRateLimiting(LimitPolicies.Account);
        auth.MapPost("/verify-email", VerifyEmail).WithName("VerifyEmail")
            .WithSummary("Verify the account's email address with the link's user and token; the first verification gives the sign-up grant.");
        auth.MapPost("/resend-verification", ResendVerification).WithName("ResendVerification")
            .WithSummary("Send the verification link again (a few times an hour).").RequireAuthorization(AuthSchemes.SessionPolicy);
        auth.MapPost("/forgot-password", ForgotPassword).WithName("ForgotPassword")
            .WithSummary("Mail a link that sets a new password. The answer is the same whether or not the address has an account.");
        auth.MapPost("/reset-password", ResetPassword).WithName("ResetPassword")
            .WithSummary("Set a new password with the link's user and token; every session ends, and API keys are revoked unless keepApiKeys is true.");
        return app;
    }

    public static async Task<Results<Ok<VerifyEmailResponse>, ProblemHttpResult>> VerifyEmail(VerifyEmailRequest request, UserManager<ImageGenUser> users,
        ImageGenDbContext db, IOptions<CreditOptions> credits, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await UserFromLinkAsync(request.UserId, request.Token, users, UserManager<ImageGenUser>.ConfirmEmailTokenPurpose,
                AccountTokens.VerificationProvider) is not { } user)
        {
            return InvalidLink("verify your address", "ask for a new one on your account page");
        }

        var granted = await db.VerifyEmailAndGrantAsync(user.Id, credits.Value.StartingGrant, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(new VerifyEmailResponse(true, granted));
    }

    public static async Task<Results<Accepted, ProblemHttpResult>> ResendVerification(ClaimsPrincipal principal, HttpContext context,
        UserManager<ImageGenUser> users, AccountMail mail, MailCap cap)
    {
        if (await users.FindByIdAsync(principal.UserId().ToString()) is not { Email: { } email } user)
        {
            return ApiProblems.Status(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "The account no longer exists.");
        }

        if (user.EmailConfirmed)
        {
            return ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.EmailAlreadyVerified, "Your email address is verified already.");
        }

        if (!await cap.TakeAsync("verify", email))
        {
            return MailLimited(context, cap);
        }

        await mail.SendVerificationAsync(user);
        return TypedResults.Accepted((string?)null);
    }

    /// <summary>The same answer, at about the same time, whether or not the address has an account: the mail goes out behind it.</summary>
    public static async Task<Results<Accepted<ForgotPasswordResponse>, ProblemHttpResult>> ForgotPassword(ForgotPasswordRequest request, HttpContext context,
        UserManager<ImageGenUser> users, AccountMail mail, MailCap cap)
    {
        var email = request.Email?.Trim();
        if (string.IsNullOrEmpty(email))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "email", "Enter the email address you signed up with.");
        }

        if (email.Length > 256 || !new EmailAddressAttribute().IsValid(email))
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidEmail, "email", "That is not an email address.");
        }

        if (!await cap.TakeAsync("reset", email))
        {
            return MailLimited(context, cap);
        }

        if (await users.FindByEmailAsync(email) is { } user)
        {
            await mail.SendPasswordResetAsync(user);
        }

        return TypedResults.Accepted((string?)null, new ForgotPasswordResponse(
            "If an account uses this address, a link to set a new password is on its way. It works for an hour."));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> ResetPassword(ResetPasswordRequest request, [AsParameters] ResetServices services,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.NewPassword))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "newPassword", "Enter a new password.");
        }

        var users = services.Users;
        if (await UserFromLinkAsync(request.UserId, request.Token, users, UserManager<ImageGenUser>.ResetPasswordTokenPurpose,
                users.Options.Tokens.PasswordResetTokenProvider) is not { } user)
        {
            return InvalidLink("set a new password", "ask for a new one");
        }

        await services.Sessions.StampChangingAsync(user.Id);
        var result = await users.ResetPasswordAsync(user, AccountMail.DecodeToken(request.Token)!, request.NewPassword);
        if (!result.Succeeded)
        {
            return AuthApi.IdentityProblem(result.Errors, "newPassword");
        }

        // As a password change: every session ends, and the keys too unless kept. The link reached the mailbox, so the
        // address is verified now (with the sign-up grant, if it was not before).
        await services.Sessions.StampChangedAsync(user);
        if (request.KeepApiKeys is not true)
        {
            await AuthApi.RevokeKeysAsync(user.Id, services.Db, services.Time);
        }

        await services.Hubs.EndUserAsync(user.Id);
        await services.Db.VerifyEmailAndGrantAsync(user.Id, services.Credits.Value.StartingGrant, services.Time.GetUtcNow(), cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>What a password reset uses.</summary>
    public sealed record ResetServices(UserManager<ImageGenUser> Users, SessionGuard Sessions, Hubs.HubSessions Hubs, ImageGenDbContext Db,
        IOptions<CreditOptions> Credits, TimeProvider Time);

    /// <summary>The account a link's user and token name, when the token is one Identity issued it for this purpose and still honours.</summary>
    private static async Task<ImageGenUser?> UserFromLinkAsync(Guid? userId, string? token, UserManager<ImageGenUser> users, string purpose, string provider)
    {
        if (userId is not { } id || AccountMail.DecodeToken(token) is not { } decoded || await users.FindByIdAsync(id.ToString()) is not { } user)
        {
            return null;
        }

        return await users.VerifyUserTokenAsync(user, provider, purpose, decoded) ? user : null;
    }

    private static ProblemHttpResult InvalidLink(string purpose, string remedy) =>
        ApiProblems.BadRequest(ErrorCodes.InvalidMailToken, "token",
            $"This link cannot {purpose} any more: it expired, was used, or the password changed since it was sent; {remedy}.");

    private static ProblemHttpResult MailLimited(HttpContext context, MailCap cap)
    {
        context.Response.Headers.RetryAfter = "3600";
        return ApiProblems.Status(StatusCodes.Status429TooManyRequests, ErrorCodes.MailLimit,
            $"At most {cap.PerHour} such messages go to one address in an hour; try again later.");
    }
}
