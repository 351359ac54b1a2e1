using MailKit.Security;
using MimeKit;

namespace ImageGen.Api.Mail;

/// <summary>
/// The SMTP relay account mail leaves through (section <c>Mail</c>; the AppHost passes <c>ImageGen:Mail:*</c>, or
/// points it at its development mail server when none is set). Any relay works: a provider's submission port with a
/// user and password, or a local MTA. Checked when the API starts: settings that cannot work stop it, a relay that does
/// not answer is logged.
/// </summary>
public sealed class MailOptions
{
    public const string Section = "Mail";

    public string Host { get; set; } = "";

    public int Port { get; set; } = 587;

    /// <summary>
    /// How the connection is secured: <c>Auto</c> (TLS on port 465, STARTTLS when the server offers it), <c>StartTls</c>
    /// (required), <c>SslOnConnect</c>, or <c>None</c> (a relay on the same host or network only).
    /// </summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.Auto;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender, as a mail client shows it: <c>ImageGen &lt;no-reply@example.com&gt;</c>.</summary>
    public string From { get; set; } = "ImageGen <no-reply@imagegen.local>";

    /// <summary>The public address links in mail point to (the gateway): <c>https://images.example.com</c>.</summary>
    public string LinkBase { get; set; } = "";

    /// <summary>Seconds one connection, or one command on it, may take.</summary>
    public int TimeoutSeconds { get; set; } = 15;

    /// <summary>Why these settings cannot work, one line each; empty when they can.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            yield return "Mail:Host is not set: name the SMTP relay account mail leaves through.";
        }

        if (Port is < 1 or > 65535)
        {
            yield return $"Mail:Port {Port} is not a port (1-65535).";
        }

        if (!MailboxAddress.TryParse(From, out _))
        {
            yield return $"Mail:From '{From}' is not a mail address (e.g. 'ImageGen <no-reply@example.com>').";
        }

        if (!Uri.TryCreate(LinkBase, UriKind.Absolute, out var link) || link.Scheme is not ("http" or "https"))
        {
            yield return "Mail:LinkBase must be the public http(s) address of the site, which links in mail point to.";
        }

        if (string.IsNullOrEmpty(UserName) != string.IsNullOrEmpty(Password))
        {
            yield return "Mail:UserName and Mail:Password go together: set both, or neither.";
        }

        if (TimeoutSeconds is < 1 or > 300)
        {
            yield return $"Mail:TimeoutSeconds {TimeoutSeconds} must be from 1 to 300.";
        }
    }

    /// <summary>A link to <paramref name="path"/> on the public site, with its query.</summary>
    public Uri Link(string path, IReadOnlyDictionary<string, string> query) =>
        new(new Uri(LinkBase.TrimEnd('/') + "/"), path.TrimStart('/') + "?" + string.Join("&",
            query.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}")));
}

internal static class MailRegistration
{
    /// <summary>Account mail: the relay's settings (refused at start when they cannot work), the outbox that sends, the messages.</summary>
    public static void AddAccountMail(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MailOptions>().BindConfiguration(MailOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<MailOptions>, MailOptionsValidator>();
        builder.Services.AddSingleton<MailOutbox>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MailOutbox>());
        builder.Services.AddScoped<AccountMail>();
    }

    /// <summary>Names each setting at fault, as the start's error.</summary>
    private sealed class MailOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<MailOptions>
    {
        public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, MailOptions options) =>
            options.Problems().ToList() is { Count: > 0 } problems
                ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(problems)
                : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
    }
}
