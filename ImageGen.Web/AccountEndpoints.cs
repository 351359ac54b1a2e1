using System.Security.Claims;
using ImageGen.ServiceDefaults;
using ImageGen.Web.Services;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace ImageGen.Web;

/// <summary>
/// Form posts of the sign-in, sign-up and sign-out pages. They talk to the API, keep its tokens in the server-side
/// session, and give the browser only a cookie naming that session.
/// </summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/account");
        account.MapPost("/login", Login);
        account.MapPost("/register", Register);
        account.MapPost("/logout", Logout);
        account.MapGet("/verify-email", VerifyEmail);
        account.MapPost("/forgot-password", ForgotPassword);
        account.MapPost("/reset-password", ResetPassword);
        return app;
    }

    /// <summary>The link in the verification mail: verifies at the API, then a page says what happened (in its own words).</summary>
    private static async Task<IResult> VerifyEmail([FromQuery] string? user, [FromQuery] string? token, HttpContext context, AccountClient account,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(user, out var userId) || string.IsNullOrEmpty(token))
        {
            return Results.LocalRedirect("/account/email-verified?result=invalid");
        }

        var verified = await account.VerifyEmailAsync(userId, token, ClientAddress.Of(context), cancellationToken);
        var result = verified.Value is { Granted: > 0 } ? "granted" : verified.Succeeded ? "verified" : "invalid";
        return Results.LocalRedirect($"/account/email-verified?result={result}");
    }

    private static async Task<IResult> ForgotPassword([FromForm] string? email, HttpContext context, AccountClient account, CancellationToken cancellationToken)
    {
        var asked = await account.ForgotPasswordAsync(email ?? "", ClientAddress.Of(context), cancellationToken);
        return asked.Succeeded
            ? Results.LocalRedirect("/account/forgot-password?sent=true")
            : Results.LocalRedirect($"/account/forgot-password?error={Uri.EscapeDataString(FirstCode(asked.Problem!))}&email={Uri.EscapeDataString(email ?? "")}");
    }

    private static async Task<IResult> ResetPassword([FromForm] Guid? user, [FromForm] string? token, [FromForm] string? password, HttpContext context,
        AccountClient account, CancellationToken cancellationToken)
    {
        var reset = await account.ResetPasswordAsync(new ImageGen.Core.Accounts.ResetPasswordRequest { UserId = user, Token = token, NewPassword = password },
            ClientAddress.Of(context), cancellationToken);
        if (reset.Succeeded)
        {
            return Results.LocalRedirect("/account/login?notice=password-reset");
        }

        // Back to the form with the link's own parameters (they came from the form) and the code of what went wrong.
        return Results.LocalRedirect($"/account/reset-password?user={user}&token={Uri.EscapeDataString(token ?? "")}&error={Uri.EscapeDataString(FirstCode(reset.Problem!))}");
    }

    private static string FirstCode(ApiProblem problem) => (problem.Errors is [var first, ..] ? first.Code : problem.Code) ?? "";

    private static async Task<IResult> Login(
        [FromForm] string? email, [FromForm] string? password, [FromForm] string? returnUrl,
        HttpContext context, AccountClient account, WebSessionStore sessions, CancellationToken cancellationToken)
    {
        var result = await account.LoginAsync(email ?? "", password ?? "", ClientAddress.Of(context), cancellationToken);
        if (!result.Succeeded)
        {
            return Results.Redirect($"/account/login?error={Uri.EscapeDataString(result.Problem!.Code ?? "")}&email={Uri.EscapeDataString(email ?? "")}");
        }

        await SignInAsync(context, account, sessions, email!, result.Value!, cancellationToken);
        return Results.LocalRedirect(IsLocal(returnUrl) ? returnUrl! : "/");
    }

    private static async Task<IResult> Register(
        [FromForm] string? email, [FromForm] string? password, HttpContext context, AccountClient account, WebSessionStore sessions, CancellationToken cancellationToken)
    {
        var registered = await account.RegisterAsync(email ?? "", password ?? "", ClientAddress.Of(context), cancellationToken);
        if (!registered.Succeeded)
        {
            // The page says what the code means in its own words (FormErrors): nothing but the code goes in the link.
            var problem = registered.Problem!;
            var code = problem.Errors is [var first, ..] ? first.Code : problem.Code;
            return Results.Redirect($"/account/register?error={Uri.EscapeDataString(code ?? "")}&email={Uri.EscapeDataString(email ?? "")}");
        }

        var login = await account.LoginAsync(email!, password!, ClientAddress.Of(context), cancellationToken);
        if (!login.Succeeded)
        {
            return Results.Redirect("/account/login");
        }

        await SignInAsync(context, account, sessions, email!, login.Value!, cancellationToken);
        return Results.LocalRedirect("/");
    }

    private static async Task<IResult> Logout(HttpContext context, AccountClient account, WebSessionStore sessions, CancellationToken cancellationToken)
    {
        if (WebSessionStore.SessionId(context.User) is { } sessionId)
        {
            if (await sessions.GetAsync(sessionId) is { } tokens)
            {
                // Revokes the refresh token at the API, not only this cookie.
                await account.LogoutAsync(tokens.AccessToken, cancellationToken);
            }

            await sessions.DeleteAsync(sessionId);
        }

        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.LocalRedirect("/account/login");
    }

    private static async Task SignInAsync(HttpContext context, AccountClient account, WebSessionStore sessions, string email,
        ImageGen.Core.Accounts.TokenResponse tokens, CancellationToken cancellationToken)
    {
        var sessionId = await sessions.CreateAsync(tokens);
        // Roles only decide what the pages offer (the operator pages); the API checks them again on every call.
        var me = await account.GetMeAsync(tokens.AccessToken, cancellationToken);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, email.Trim()),
                new Claim(WebSessionStore.SessionClaim, sessionId),
                .. (me.Value?.Roles ?? []).Select(role => new Claim(ClaimTypes.Role, role)),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity),
            new AuthenticationProperties { IsPersistent = true, ExpiresUtc = DateTimeOffset.UtcNow + WebSessionStore.Lifetime });
    }

    private static bool IsLocal(string? url) => !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);
}
