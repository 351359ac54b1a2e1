using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

[Collection(GraphCollection.Name)]
public sealed class AccountTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static string NewEmail() => $"acct-{Guid.NewGuid():N}@graph.test";

    [Fact]
    public async Task A_new_account_starts_with_the_grant_and_sees_it_in_the_ledger()
    {
        using var user = await graph.CreateUserAsync(Token);

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);

        Assert.Equal(100, credits!.Balance);
        Assert.Equal(0, credits.Reserved);
        var grant = Assert.Single(credits.Entries);
        Assert.Equal((CreditEntryKind.Grant, 100), (grant.Kind, grant.Amount));
    }

    [Theory]
    [InlineData("short1A", ErrorCodes.WeakPassword, "password")]
    [InlineData("alllowercase1", ErrorCodes.WeakPassword, "password")]
    [InlineData("NoDigitsHere", ErrorCodes.WeakPassword, "password")]
    public async Task A_weak_password_is_refused_with_every_broken_rule(string password, string code, string field)
    {
        using var response = await graph.Gateway.PostAsJsonAsync("/api/auth/register", new { email = NewEmail(), password }, Token);
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code, field);
        Assert.NotEmpty(problem.GetProperty("errors").EnumerateArray());
    }

    [Theory]
    [InlineData("not-an-email", ErrorCodes.InvalidEmail)]
    [InlineData("", ErrorCodes.Required)]
    public async Task A_bad_email_is_refused(string email, string code)
    {
        using var response = await graph.Gateway.PostAsJsonAsync("/api/auth/register", new { email, password = GraphFixture.UserPassword }, Token);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code, "email");
    }

    [Fact]
    public async Task A_taken_email_is_a_conflict_and_the_first_account_is_untouched()
    {
        using var user = await graph.CreateUserAsync(Token);

        using var response = await graph.Gateway.PostAsJsonAsync("/api/auth/register", new { email = user.Email.ToUpperInvariant(), password = "Another-Passw0rd" }, Token);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict, ErrorCodes.EmailTaken, "email");
        using var again = await graph.LoginAsync(user.Email, GraphFixture.UserPassword, Token);
        Assert.Equal(user.Id, again.Id);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_and_repeated_failures_lock_the_account()
    {
        using var user = await graph.CreateUserAsync(Token);

        for (var i = 0; i < 4; i++)
        {
            using var wrong = await graph.Gateway.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = "Wrong-Passw0rd" }, Token);
            await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        }

        using var fifth = await graph.Gateway.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = "Wrong-Passw0rd" }, Token);
        await ProblemAssert.IsProblemAsync(fifth, HttpStatusCode.Forbidden, ErrorCodes.AccountLocked);
        Assert.NotNull(fifth.Headers.RetryAfter);

        // Locked means locked: even the right password waits.
        using var right = await graph.Gateway.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = GraphFixture.UserPassword }, Token);
        await ProblemAssert.IsProblemAsync(right, HttpStatusCode.Forbidden, ErrorCodes.AccountLocked);
    }

    [Fact]
    public async Task A_refresh_token_gives_new_tokens_until_logout_revokes_it()
    {
        using var user = await graph.CreateUserAsync(Token);

        using var refreshed = await graph.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = user.RefreshToken }, Token);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var tokens = await graph.ReadAsync<TokenResponse>(refreshed, Token);
        Assert.NotEqual(user.AccessToken, tokens.AccessToken);

        using var logout = await user.Client.PostAsync("/api/auth/logout", null, Token);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        using var afterLogout = await graph.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = tokens.RefreshToken }, Token);
        await ProblemAssert.IsProblemAsync(afterLogout, HttpStatusCode.Unauthorized, ErrorCodes.InvalidRefreshToken);
    }

    [Theory]
    [InlineData("Bearer not-a-real-token")]
    [InlineData("Bearer igk_0000")]
    [InlineData("Bearer igk_0123456789abcdef0123456789abcdef01234567")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Bad_credentials_are_401_problems(string authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/quests");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await graph.Gateway.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Changing_the_password_keeps_the_account_and_retires_the_old_password()
    {
        using var user = await graph.CreateUserAsync(Token);

        using var wrongCurrent = await user.Client.PostAsJsonAsync("/api/auth/change-password", new { currentPassword = "nope-Passw0rd", newPassword = "Brand-new-Passw0rd" }, Token);
        await ProblemAssert.IsProblemAsync(wrongCurrent, HttpStatusCode.BadRequest, ErrorCodes.InvalidCredentials, "currentPassword");

        using var changed = await user.Client.PostAsJsonAsync("/api/auth/change-password", new { currentPassword = GraphFixture.UserPassword, newPassword = "Brand-new-Passw0rd" }, Token);
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

        using var old = await graph.Gateway.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = GraphFixture.UserPassword }, Token);
        await ProblemAssert.IsProblemAsync(old, HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        using var again = await graph.LoginAsync(user.Email, "Brand-new-Passw0rd", Token);
        Assert.Equal(user.Id, again.Id);
    }

    [Fact]
    public async Task An_api_key_works_until_it_is_revoked_and_is_never_shown_again()
    {
        using var user = await graph.CreateUserAsync(Token);

        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "laptop" }, Token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        Assert.StartsWith("igk_", key.Key, StringComparison.Ordinal);
        Assert.StartsWith(key.Prefix, key.Key, StringComparison.Ordinal);

        using var withKey = new HttpClient { BaseAddress = graph.GatewayAddress };
        withKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        var me = await withKey.GetFromJsonAsync<MeDto>("/api/me", GraphFixture.Json, Token);
        Assert.Equal(user.Id, me!.Id);
        using var submitted = await withKey.PostAsJsonAsync("/api/quests", new { prompt = "made with a key", model = "local-sketch", width = 64, height = 64 }, Token);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);

        var listed = await user.Client.GetStringAsync("/api/keys", Token);
        Assert.DoesNotContain(key.Key, listed, StringComparison.Ordinal);
        var keys = await user.Client.GetFromJsonAsync<List<ApiKeyDto>>("/api/keys", GraphFixture.Json, Token);
        var listedKey = Assert.Single(keys!);
        Assert.Equal((key.Id, key.Prefix), (listedKey.Id, listedKey.Prefix));
        Assert.NotNull(listedKey.LastUsedAt);

        using var revoked = await user.Client.DeleteAsync($"/api/keys/{key.Id}", Token);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        using var afterRevoke = await withKey.GetAsync("/api/me", Token);
        await ProblemAssert.IsProblemAsync(afterRevoke, HttpStatusCode.Unauthorized, "api_key_revoked");

        using var revokeAgain = await user.Client.DeleteAsync($"/api/keys/{key.Id}", Token);
        await ProblemAssert.IsProblemAsync(revokeAgain, HttpStatusCode.NotFound, ErrorCodes.ApiKeyNotFound);
    }

    [Fact]
    public async Task A_key_needs_a_name()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var response = await user.Client.PostAsJsonAsync("/api/keys", new { name = "  " }, Token);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, ErrorCodes.Required, "name");
    }
}
