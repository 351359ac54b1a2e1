using System.Globalization;
using System.Security.Claims;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using ImageGen.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Auth;

/// <summary>How recent a sign-in must be for a sensitive action without the password (section <c>Accounts</c>).</summary>
public sealed class RecentSignInOptions
{
    public const string Section = "Accounts";

    /// <summary>5 minutes by default; a test graph shortens it.</summary>
    public TimeSpan RecentSignInWindow { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Marks an endpoint whose action a stolen session must not be able to take alone (see <see cref="RecentSignIn"/>).</summary>
public sealed class RecentSignInRequired;

/// <summary>
/// Sensitive actions (minting a key, setting the webhook address, rotating its secret; a password change asks for the
/// password itself) need a sign-in within <see cref="RecentSignInOptions.RecentSignInWindow"/>, or the current password
/// in the request (<see cref="IConfirmsPassword"/>). A wrong password counts against the same lock as a sign-in. An API
/// key is not a session: what it may do is its scopes' business, and it cannot mint keys at all.
/// </summary>
internal static class RecentSignIn
{
    /// <summary>When the session's password was last entered (Unix seconds); carried across refreshes.</summary>
    public const string AuthTimeClaim = "imagegen:auth_time";

    public static RouteHandlerBuilder RequireRecentSignIn(this RouteHandlerBuilder endpoint) =>
        endpoint.WithMetadata(new RecentSignInRequired()).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var services = http.RequestServices;
            if (http.User.IsApiKey() || SignedInWithin(http.User, services.GetRequiredService<IOptions<RecentSignInOptions>>().Value.RecentSignInWindow,
                    services.GetRequiredService<TimeProvider>().GetUtcNow()))
            {
                return await next(context);
            }

            var password = context.Arguments.OfType<IConfirmsPassword>().FirstOrDefault()?.CurrentPassword;
            if (string.IsNullOrEmpty(password))
            {
                return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.ReauthenticationRequired,
                    "For your safety, confirm this with your current password (send currentPassword), or sign in again.", "currentPassword");
            }

            var users = services.GetRequiredService<UserManager<ImageGenUser>>();
            if (await users.FindByIdAsync(http.User.UserId().ToString()) is not { } user)
            {
                return ApiProblems.Status(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "The account no longer exists.");
            }

            return await services.GetRequiredService<PasswordConfirmation>().CheckAsync(user, password, http) is { } wrong ? wrong : await next(context);
        });

    /// <summary>Stamps a new session's principal with the moment its password was entered.</summary>
    public static ClaimsPrincipal Stamp(ClaimsPrincipal principal, DateTimeOffset signedInAt)
    {
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(AuthTimeClaim, signedInAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));
        return principal;
    }

    /// <summary>A refreshed session keeps the moment of its sign-in, not of the refresh.</summary>
    public static ClaimsPrincipal CarryOver(ClaimsPrincipal from, ClaimsPrincipal to)
    {
        if (from.FindFirst(AuthTimeClaim) is { } claim)
        {
            ((ClaimsIdentity)to.Identity!).AddClaim(new Claim(AuthTimeClaim, claim.Value));
        }

        return to;
    }

    public static bool SignedInWithin(ClaimsPrincipal user, TimeSpan window, DateTimeOffset now) =>
        long.TryParse(user.FindFirst(AuthTimeClaim)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
        && now - DateTimeOffset.FromUnixTimeSeconds(seconds) <= window;
}

/// <summary>
/// The current password, checked as a sign-in's guess is: wrong ones count against the same lock (this account, this
/// address).
/// </summary>
internal sealed class PasswordConfirmation(UserManager<ImageGenUser> users, SignInThrottle throttle)
{
    /// <summary>Null when the password is right; else the problem to answer (wrong, or locked).</summary>
    public async Task<ProblemHttpResult?> CheckAsync(ImageGenUser user, string password, HttpContext context)
    {
        var (email, address) = (user.Email ?? "", ClientAddress.Of(context));
        if (await throttle.LockedForAsync(email, address) is { } wait)
        {
            return Apis.AuthApi.Locked(context, wait);
        }

        if (!await users.CheckPasswordAsync(user, password))
        {
            return await throttle.FailedAsync(email, address) is { } locked
                ? Apis.AuthApi.Locked(context, locked)
                : ApiProblems.BadRequest(ErrorCodes.InvalidCredentials, "currentPassword", "The current password is wrong.");
        }

        await throttle.SucceededAsync(email, address);
        return null;
    }
}
