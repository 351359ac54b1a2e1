using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;

namespace ImageGen.Tests.Graph;

[Collection(ConstrainedCollection.Name)]
public sealed class RateLimitTests(ConstrainedGraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static IPAddress FreshAddress() => GraphFixture.FreshLoopbackAddress();

    [Fact]
    public async Task Repeated_sign_in_attempts_from_one_address_are_slowed_with_429_and_retry_after()
    {
        using var client = graph.ClientFrom(FreshAddress());
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < ConstrainedGraphFixture.LoginBurst + 3; i++)
        {
            // A different account each time: the per-address limit stops the spray (one account would lock first).
            var response = await client.PostAsJsonAsync("/api/auth/login", new { email = $"nobody-{i}@graph.test", password = "Guess-number-" + i }, Token);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited ??= response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.All(statuses.Take(ConstrainedGraphFixture.LoginBurst), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.All(statuses.Skip(ConstrainedGraphFixture.LoginBurst), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        using (limited)
        {
            var problem = await ProblemAssert.IsProblemAsync(limited!, HttpStatusCode.TooManyRequests, "rate_limited");
            Assert.True(limited!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.True(problem.GetProperty("retryAfter").GetInt32() >= 1);
        }

        // Another address is not affected.
        using var other = graph.ClientFrom(FreshAddress());
        using var fromOther = await other.PostAsJsonAsync("/api/auth/login", new { email = "nobody@graph.test", password = "Guess" }, Token);
        Assert.Equal(HttpStatusCode.Unauthorized, fromOther.StatusCode);
    }

    [Fact]
    public async Task Submits_beyond_the_burst_are_429_per_caller_and_spend_no_credits()
    {
        using var first = await CreateUserFromFreshAddressAsync();
        using var second = await CreateUserFromFreshAddressAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < ConstrainedGraphFixture.SubmitBurst + 2; i++)
        {
            using var response = await first.Client.PostAsJsonAsync("/api/quests", new { prompt = $"burst {i}", model = "local-sketch", width = 64, height = 64 }, Token);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(ConstrainedGraphFixture.SubmitBurst, statuses.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        using var fromSecond = await second.Client.PostAsJsonAsync("/api/quests", new { prompt = "my own budget", model = "local-sketch", width = 64, height = 64 }, Token);
        Assert.Equal(HttpStatusCode.Accepted, fromSecond.StatusCode);

        // Refused at the gateway means never reserved.
        var credits = await first.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(ConstrainedGraphFixture.SubmitBurst, credits!.Entries.Count(e => e.Kind == CreditEntryKind.Reserve));
    }

    [Fact]
    public async Task The_openai_compatible_surface_spends_the_same_submit_allowance_as_the_native_api()
    {
        using var user = await CreateUserFromFreshAddressAsync();
        for (var i = 0; i < ConstrainedGraphFixture.SubmitBurst; i++)
        {
            using var native = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"native {i}", model = "local-sketch", width = 64, height = 64 }, Token);
            Assert.Equal(HttpStatusCode.Accepted, native.StatusCode);
        }

        // The allowance is the user's, whichever surface asks: /v1 is refused too, in OpenAI's envelope.
        using var openAi = await user.Client.PostAsJsonAsync("/v1/images/generations", new { prompt = "another door", model = "local-sketch", size = "64x64" }, Token);
        Assert.Equal(HttpStatusCode.TooManyRequests, openAi.StatusCode);
        using var body = await System.Text.Json.JsonDocument.ParseAsync(await openAi.Content.ReadAsStreamAsync(Token), cancellationToken: Token);
        Assert.Equal("rate_limit_exceeded", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(ConstrainedGraphFixture.SubmitBurst, credits!.Entries.Count(e => e.Kind == CreditEntryKind.Reserve));
    }

    [Fact]
    public async Task One_user_cannot_step_around_the_submit_limit_with_another_spelling_of_the_token_or_an_api_key()
    {
        using var user = await CreateUserFromFreshAddressAsync();
        // A key made before the burst is spent: keys are not submits.
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "second credential" }, Token);
        var key = (await graph.ReadAsync<CreatedApiKeyDto>(created, Token)).Key;

        // The bucket was once a hash of the header's bytes: each spelling had a bucket of its own.
        var credentials = Enumerable.Range(1, ConstrainedGraphFixture.SubmitBurst).Select(spaces => "Bearer" + new string(' ', spaces) + user.AccessToken)
            .Concat(["Bearer " + key, "Bearer  " + key, "Bearer    " + user.AccessToken])
            .ToList();
        var statuses = new List<HttpStatusCode>();
        foreach (var credential in credentials)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/quests") { Content = JsonContent.Create(new { prompt = "spelled", model = "local-sketch", width = 64, height = 64 }) };
            request.Headers.TryAddWithoutValidation("Authorization", credential);
            using var response = await user.Client.SendAsync(request, Token);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await ProblemAssert.IsProblemAsync(response, HttpStatusCode.TooManyRequests, "rate_limited");
            }
        }

        Assert.All(statuses.Take(ConstrainedGraphFixture.SubmitBurst), s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.All(statuses.Skip(ConstrainedGraphFixture.SubmitBurst), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Fact]
    public async Task New_accounts_from_one_address_stop_at_the_daily_cap_through_the_api_and_the_web_form_alike()
    {
        using var client = graph.ClientFrom(FreshAddress());
        for (var i = 0; i < ConstrainedGraphFixture.SignupsPerDay; i++)
        {
            using var registered = await client.PostAsJsonAsync("/api/auth/register", new { email = $"farm-{Guid.NewGuid():N}@graph.test", password = GraphFixture.UserPassword }, Token);
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        using (var overApi = await client.PostAsJsonAsync("/api/auth/register", new { email = $"farm-{Guid.NewGuid():N}@graph.test", password = GraphFixture.UserPassword }, Token))
        {
            await ProblemAssert.IsProblemAsync(overApi, HttpStatusCode.TooManyRequests, "signup_limit");
        }

        // The web form was not limited at all.
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = $"farm-{Guid.NewGuid():N}@graph.test", ["password"] = GraphFixture.UserPassword });
        using (var overForm = await client.PostAsync("/account/register", form, Token))
        {
            await ProblemAssert.IsProblemAsync(overForm, HttpStatusCode.TooManyRequests, "signup_limit");
        }

        // Another address opens its account as usual.
        using var other = graph.ClientFrom(FreshAddress());
        using var elsewhere = await other.PostAsJsonAsync("/api/auth/register", new { email = $"farm-{Guid.NewGuid():N}@graph.test", password = GraphFixture.UserPassword }, Token);
        Assert.Equal(HttpStatusCode.Created, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Sign_in_attempts_through_the_web_form_spend_the_same_per_address_allowance()
    {
        using var client = graph.ClientFrom(FreshAddress());
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < ConstrainedGraphFixture.LoginBurst + 2; i++)
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "nobody@graph.test", ["password"] = "Guess-" + i });
            using var response = await client.PostAsync("/account/login", form, Token);
            statuses.Add(response.StatusCode);
        }

        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses.Take(ConstrainedGraphFixture.LoginBurst));
        Assert.All(statuses.Skip(ConstrainedGraphFixture.LoginBurst), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    private async Task<TestUser> CreateUserFromFreshAddressAsync()
    {
        var client = graph.ClientFrom(FreshAddress());
        var email = $"limits-{Guid.NewGuid():N}@graph.test";
        using var registered = await client.PostAsJsonAsync("/api/auth/register", new { email, password = GraphFixture.UserPassword }, Token);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        using var login = await client.PostAsJsonAsync("/api/auth/login", new { email, password = GraphFixture.UserPassword }, Token);
        var tokens = await graph.ReadAsync<TokenResponse>(login, Token);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        return new TestUser(Guid.Empty, email, GraphFixture.UserPassword, tokens.AccessToken, tokens.RefreshToken, client);
    }
}
