using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>
/// A session that signed in longer ago than the window (2 s in this graph, 5 minutes by default) cannot mint a key, set
/// the webhook address or rotate its secret without the current password; wrong passwords lock as sign-ins do.
/// </summary>
[Collection(ConstrainedCollection.Name)]
public sealed class ReauthenticationTests(ConstrainedGraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly (HttpMethod Method, string Path, Func<string?, object> Body)[] Sensitive =
    [
        (HttpMethod.Post, "/api/keys", password => new { name = "script", currentPassword = password }),
        (HttpMethod.Put, "/api/webhooks", password => new { url = (string?)null, currentPassword = password }),
        (HttpMethod.Post, "/api/webhooks/secret", password => new { currentPassword = password }),
    ];

    /// <summary>One wait past the window serves every case (the constrained graph's tests run one at a time).</summary>
    [Fact]
    public async Task An_old_session_needs_the_password_wrong_guesses_lock_and_a_key_keeps_to_its_scope()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var guesser = await graph.CreateUserAsync(Token);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "hooks", scopes = new[] { "webhooks" } }, Token);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        await Task.Delay(TimeSpan.Parse(ConstrainedGraphFixture.RecentSignInWindow, System.Globalization.CultureInfo.InvariantCulture) + TimeSpan.FromSeconds(1), Token);

        foreach (var (method, path, body) in Sensitive)
        {
            using (var bare = await SendAsync(user.Client, method, path, body(null)))
            {
                await ProblemAssert.IsProblemAsync(bare, HttpStatusCode.Forbidden, ErrorCodes.ReauthenticationRequired, "currentPassword");
            }

            using var confirmed = await SendAsync(user.Client, method, path, body(GraphFixture.UserPassword));
            Assert.True(confirmed.IsSuccessStatusCode, $"{method} {path} with the password: {(int)confirmed.StatusCode} {await confirmed.Content.ReadAsStringAsync(Token)}");
        }

        using (var empty = await user.Client.PostAsync("/api/webhooks/secret", null, Token))
        {
            await ProblemAssert.IsProblemAsync(empty, HttpStatusCode.Forbidden, ErrorCodes.ReauthenticationRequired, "currentPassword");
        }

        // A key is not a session: what it may do is its scope's business.
        using var keyed = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        keyed.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        using (var rotated = await keyed.PostAsync("/api/webhooks/secret", null, Token))
        {
            Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        }

        // Four wrong confirmations and one wrong sign-in from the same address: the fifth failure locks the account there,
        // for the key and for signing in alike.
        for (var i = 0; i < 4; i++)
        {
            using var wrong = await guesser.Client.PostAsJsonAsync("/api/keys", new { name = "guess", currentPassword = $"Guess-{i}-Passw0rd" }, Token);
            await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.BadRequest, ErrorCodes.InvalidCredentials, "currentPassword");
        }

        using (var fifth = await guesser.Client.PostAsJsonAsync("/api/auth/login", new { email = guesser.Email, password = "Guess-5-Passw0rd" }, Token))
        {
            await ProblemAssert.IsProblemAsync(fifth, HttpStatusCode.Forbidden, ErrorCodes.AccountLocked);
        }

        using var right = await guesser.Client.PostAsJsonAsync("/api/keys", new { name = "guess", currentPassword = GraphFixture.UserPassword }, Token);
        await ProblemAssert.IsProblemAsync(right, HttpStatusCode.Forbidden, ErrorCodes.AccountLocked);
        Assert.Empty((await guesser.Client.GetFromJsonAsync<List<ApiKeyDto>>("/api/keys", GraphFixture.Json, Token))!);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, object body) =>
        client.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) }, Token);
}
