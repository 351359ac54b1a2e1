using System.Net.Mail;
using ImageGen.Core.Quests;

namespace ImageGen.Web.Components.Pages.Account;

/// <summary>
/// What the sign-in and sign-up pages say after a failed post. The redirect names only the API's stable error code, and
/// the page shows this project's own sentence for it: no text from the query string reaches the page, so a link cannot
/// make the page say what its author likes. The email is given back to its field only when it is an address.
/// </summary>
public static class FormErrors
{
    private static readonly Dictionary<string, string> Messages = new(StringComparer.Ordinal)
    {
        [ErrorCodes.InvalidCredentials] = "The email or the password is wrong.",
        [ErrorCodes.AccountLocked] = "Too many wrong passwords: this account is locked for a few minutes. Try again later.",
        [ErrorCodes.RateLimited] = "Too many attempts from here. Wait a minute and try again.",
        [ErrorCodes.EmailTaken] = "An account with this email already exists. Sign in instead.",
        [ErrorCodes.InvalidEmail] = "That is not an email address we can use.",
        [ErrorCodes.WeakPassword] = "Choose a stronger password: at least 8 characters, with a digit, an upper- and a lower-case letter.",
        [ErrorCodes.Required] = "Enter your email address and a password.",
        [ErrorCodes.InvalidMailToken] = "This link does not work any more: it expired, was used, or the password changed since. Ask for a new one.",
        [ErrorCodes.MailLimit] = "We sent several messages to this address in the last hour. Wait a while, then try again.",
        [ErrorCodes.SignupLimit] = "Too many new accounts from this address today. Try again tomorrow, or sign in to an account you have.",
    };

    /// <summary>The sentence for a code, or a general one for a code this page does not know.</summary>
    public static string? MessageFor(string? code, string fallback) =>
        string.IsNullOrEmpty(code) ? null : Messages.GetValueOrDefault(code, fallback);

    /// <summary>The email to put back in the form: only a plain address, else nothing.</summary>
    public static string? EmailToShow(string? email) =>
        email is { Length: > 0 and <= 254 } && MailAddress.TryCreate(email, out var address) && address.Address == email && address.DisplayName.Length == 0
            ? email
            : null;
}
