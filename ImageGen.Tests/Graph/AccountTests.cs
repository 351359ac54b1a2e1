using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

public sealed partial class AccountTests(GraphFixture graph)
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
    public async Task Guessing_the_current_password_counts_against_the_sign_in_lock()
    {
        using var user = await graph.CreateUserAsync(Token);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var guess = await user.Client.PostAsJsonAsync("/api/auth/change-password", new { currentPassword = $"Guess-{i}-Passw0rd", newPassword = "Brand-new-Passw0rd" }, Token);
            statuses.Add(guess.StatusCode);
        }

        Assert.All(statuses.Take(4), s => Assert.Equal(HttpStatusCode.BadRequest, s));
        Assert.Equal(HttpStatusCode.Forbidden, statuses[4]);

        // Locked now: the right password is refused too, here and at sign-in from the same address.
        using var right = await user.Client.PostAsJsonAsync("/api/auth/change-password", new { currentPassword = GraphFixture.UserPassword, newPassword = "Brand-new-Passw0rd" }, Token);
        await ProblemAssert.IsProblemAsync(right, HttpStatusCode.Forbidden, ErrorCodes.AccountLocked);
        using var signIn = await user.Client.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = GraphFixture.UserPassword }, Token);
        await ProblemAssert.IsProblemAsync(signIn, HttpStatusCode.Forbidden, ErrorCodes.AccountLocked);
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
    public async Task A_refresh_token_works_once_and_a_second_use_ends_the_whole_session()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var first = await graph.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = user.RefreshToken }, Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var next = await graph.ReadAsync<TokenResponse>(first, Token);
        Assert.NotEqual(user.RefreshToken, next.RefreshToken);

        // The spent token again: someone holds a copy. The session ends, for the copy and the rotated tokens alike.
        using var reused = await graph.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = user.RefreshToken }, Token);
        await ProblemAssert.IsProblemAsync(reused, HttpStatusCode.Unauthorized, ErrorCodes.RefreshTokenReused);
        using var rotated = await graph.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = next.RefreshToken }, Token);
        await ProblemAssert.IsProblemAsync(rotated, HttpStatusCode.Unauthorized, ErrorCodes.RefreshTokenReused);
        using var withAccess = new HttpRequestMessage(HttpMethod.Get, "/api/me") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", next.AccessToken) } };
        using var me = await graph.Gateway.SendAsync(withAccess, Token);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);

        // Another session of the same account is not touched.
        using var other = await graph.LoginAsync(user.Email, GraphFixture.UserPassword, Token);
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync("/api/me", Token)).StatusCode);
    }

    [Fact]
    public async Task Logout_stops_the_access_token_at_once_and_closes_live_hub_connections()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var hub = await graph.ConnectHubAsync(user, Token);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };

        using var logout = await user.Client.PostAsync("/api/auth/logout", null, Token);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        // The access token had 15 minutes left: it stops now, on every API instance.
        for (var i = 0; i < 4; i++)
        {
            using var after = await user.Client.GetAsync("/api/me", Token);
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15), Token);
    }

    [Fact]
    public async Task A_stranger_guessing_a_password_locks_only_their_own_address_out()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var stranger = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            using var guess = await stranger.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = "Guess-" + i }, Token);
            statuses.Add(guess.StatusCode);
        }

        // The fifth failure locks, as it always did; but only this address.
        Assert.All(statuses.Take(4), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.All(statuses.Skip(4), s => Assert.Equal(HttpStatusCode.Forbidden, s));
        // Even the right password from the stranger's address waits out the lock...
        using var right = await stranger.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = GraphFixture.UserPassword }, Token);
        await ProblemAssert.IsProblemAsync(right, HttpStatusCode.Forbidden, ErrorCodes.AccountLocked);

        // ...while the owner, from their own address, signs in as usual.
        using var owner = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        using var signedIn = await owner.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = GraphFixture.UserPassword }, Token);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
    }

    [Fact]
    public async Task Web_pages_tell_the_browser_to_run_only_our_scripts_and_never_in_a_frame()
    {
        using var page = await graph.Gateway.GetAsync("/account/login", Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(page.Headers.Contains("Referrer-Policy"));
    }
}
