using System.Net.Http.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace ImageGen.Tests.Graph;

/// <summary>
/// The graph's development mail server (smtp4dev), read through its HTTP API: the mail the API sent over SMTP, as the
/// recipient's inbox holds it. The one way tests get the links of account mail.
/// </summary>
public sealed partial class DevInbox(Uri address)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http = new() { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The web inbox (and its API) the dashboard links to.</summary>
    public Uri Address => address;

    /// <summary>Every message to <paramref name="email"/> so far, newest first.</summary>
    public async Task<IReadOnlyList<Summary>> MessagesToAsync(string email, CancellationToken cancellationToken)
    {
        var page = await _http.GetFromJsonAsync<Page>(
            $"/api/messages?searchTerms={Uri.EscapeDataString(email)}&sortColumn=receivedDate&sortIsDescending=true&pageSize=50", cancellationToken);
        return [.. page!.Results.Where(m => m.To.Any(to => string.Equals(to, email, StringComparison.OrdinalIgnoreCase)))];
    }

    /// <summary>A message's text as the recipient reads it.</summary>
    public Task<string> TextAsync(Summary message, CancellationToken cancellationToken) =>
        _http.GetStringAsync($"/api/messages/{message.Id}/plaintext", cancellationToken);

    /// <summary>
    /// The newest link to <paramref name="path"/> in mail to <paramref name="email"/>, once there is one beyond the
    /// <paramref name="seen"/> messages already there (mail leaves the API a moment after its request answered).
    /// </summary>
    public async Task<Uri> WaitForLinkAsync(string email, string path, CancellationToken cancellationToken, int seen = 0)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Wait);
        while (true)
        {
            var messages = await MessagesToAsync(email, deadline.Token);
            if (messages.Count > seen)
            {
                var text = await TextAsync(messages[0], deadline.Token);
                if (Link().Matches(text).Select(m => new Uri(m.Value)).FirstOrDefault(u => u.AbsolutePath == path) is { } link)
                {
                    return link;
                }
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary>A link's query parameter (<c>user</c>, <c>token</c>).</summary>
    public static string Query(Uri link, string name) =>
        Uri.UnescapeDataString(link.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).First(p => p[0] == name)[1]);

    public sealed record Summary(string Id, string Subject, [property: JsonPropertyName("to")] IReadOnlyList<string> To);

    private sealed record Page(IReadOnlyList<Summary> Results);

    [GeneratedRegex(@"https?://[^\s]+")]
    private static partial Regex Link();
}
