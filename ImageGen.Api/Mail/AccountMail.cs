using ImageGen.Api.Auth;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using MimeKit;

namespace ImageGen.Api.Mail;

/// <summary>
/// The two messages an account gets: the link that verifies its address (and gives the sign-up grant) and the link
/// that sets a new password. Each link carries the account's id and a token Identity signs with the data protection
/// keys every API instance shares; it expires (<see cref="AccountTokens"/>) and stops working when the password changes.
/// </summary>
internal sealed class AccountMail(UserManager<ImageGenUser> users, MailOutbox outbox, IOptions<MailOptions> options, IOptions<CreditOptions> credits)
{
    public const string VerifyPath = "/account/verify-email";
    public const string ResetPath = "/account/reset-password";

    public async Task<bool> SendVerificationAsync(ImageGenUser user)
    {
        var token = WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(await users.GenerateEmailConfirmationTokenAsync(user)));
        var link = options.Value.Link(VerifyPath, new Dictionary<string, string> { ["user"] = user.Id.ToString(), ["token"] = token });
        return outbox.Enqueue(Message(user, "Verify your email address for ImageGen", $"""
            Welcome to ImageGen.

            Open this link to verify your email address; your {credits.Value.StartingGrant} free credits arrive when you do:

            {link}

            The link works for {AccountTokens.VerificationLifespan.TotalDays:0} days. If you did not sign up, ignore this message.
            """));
    }

    public async Task<bool> SendPasswordResetAsync(ImageGenUser user)
    {
        var token = WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(await users.GeneratePasswordResetTokenAsync(user)));
        var link = options.Value.Link(ResetPath, new Dictionary<string, string> { ["user"] = user.Id.ToString(), ["token"] = token });
        return outbox.Enqueue(Message(user, "Set a new ImageGen password", $"""
            Someone (we hope you) asked to set a new password for this ImageGen account.

            Open this link to choose one:

            {link}

            The link works for {AccountTokens.ResetLifespan.TotalMinutes:0} minutes, once. If you did not ask, ignore this message: your password stays as it is.
            """));
    }

    /// <summary>A token from a link, back in the form Identity issued it; null when it was not one of ours.</summary>
    public static string? DecodeToken(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 2048)
        {
            return null;
        }

        try
        {
            return System.Text.Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(token));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private MimeMessage Message(ImageGenUser user, string subject, string text)
    {
        var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = text } };
        message.From.Add(MailboxAddress.Parse(options.Value.From));
        message.To.Add(MailboxAddress.Parse(user.Email!));
        return message;
    }
}
