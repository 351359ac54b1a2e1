using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
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
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "second credential", currentPassword = GraphFixture.UserPassword }, Token);
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
        // Every spelling of the route reaches the same endpoint, and so the same cap.
        // (Each attempt also spends the address's sign-in allowance, LoginBurst, which the test stays within.)
        var spellings = new[] { "/api/auth/register", "/API/Auth/Register", "/api/auth/register/" };
        for (var i = 0; i < ConstrainedGraphFixture.SignupsPerDay; i++)
        {
            using var registered = await client.PostAsJsonAsync(spellings[i % spellings.Length], new { email = $"farm-{Guid.NewGuid():N}@graph.test", password = GraphFixture.UserPassword }, Token);
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        foreach (var spelling in spellings)
        {
            using var over = await client.PostAsJsonAsync(spelling, new { email = $"farm-{Guid.NewGuid():N}@graph.test", password = GraphFixture.UserPassword }, Token);
            await ProblemAssert.IsProblemAsync(over, HttpStatusCode.TooManyRequests, "signup_limit");
        }

        // The web form signs up through the same endpoint: the page says so, and no account is opened.
        var email = $"farm-{Guid.NewGuid():N}@graph.test";
        var page = await client.GetStringAsync("/account/register", Token);
        var antiforgery = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = email, ["password"] = GraphFixture.UserPassword, ["__RequestVerificationToken"] = antiforgery,
        });
        using (var overForm = await client.PostAsync("/account/register", form, Token))
        {
            Assert.Equal(HttpStatusCode.OK, overForm.StatusCode);
            Assert.Contains("error=signup_limit", overForm.RequestMessage?.RequestUri?.Query, StringComparison.Ordinal);
            Assert.Contains("Too many new accounts from this address today", await overForm.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        }

        using var other = graph.ClientFrom(FreshAddress());
        using (var signIn = await other.PostAsJsonAsync("/api/auth/login", new { email, password = GraphFixture.UserPassword }, Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        }

        // Another address opens its account as usual.
        using var elsewhere = await other.PostAsJsonAsync("/api/auth/register", new { email = $"farm-{Guid.NewGuid():N}@graph.test", password = GraphFixture.UserPassword }, Token);
        Assert.Equal(HttpStatusCode.Created, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Parallel_sign_ups_from_one_address_open_exactly_the_cap_and_a_failed_one_keeps_its_place()
    {
        using var client = graph.ClientFrom(FreshAddress());
        // A sign-up refused for its password does not use a place.
        using (var weak = await client.PostAsJsonAsync("/api/auth/register", new { email = $"farm-{Guid.NewGuid():N}@graph.test", password = "short" }, Token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        }

        // As many at once as the address's sign-in allowance lets through, spread over both API instances.
        const int parallel = ConstrainedGraphFixture.LoginBurst - 1;
        var statuses = await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            using var response = await client.PostAsJsonAsync("/api/auth/register", new { email = $"farm-{Guid.NewGuid():N}@graph.test", password = GraphFixture.UserPassword }, Token);
            return response.StatusCode;
        }));

        Assert.Equal(ConstrainedGraphFixture.SignupsPerDay, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(parallel - ConstrainedGraphFixture.SignupsPerDay, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
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

    [Fact]
    public async Task Reads_of_one_user_draw_on_one_allowance_whatever_the_credential()
    {
        using var user = await CreateUserFromFreshAddressAsync();
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "reader", scopes = new[] { "quests" }, currentPassword = GraphFixture.UserPassword }, Token);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        using var keyed = graph.ClientFrom(FreshAddress());
        keyed.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);

        var started = System.Diagnostics.Stopwatch.StartNew();
        // The token and the key, at once, from two addresses: one user, one bucket.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 3 * ConstrainedGraphFixture.ReadBurst).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? user.Client : keyed).GetAsync(i % 3 == 0 ? "/api/quests" : "/API/Quests/", Token);
            return response.StatusCode;
        }));
        var refilled = (int)Math.Ceiling(started.Elapsed.TotalMinutes * ConstrainedGraphFixture.ReadsPerMinute);

        var passed = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.InRange(passed, ConstrainedGraphFixture.ReadBurst - 1, ConstrainedGraphFixture.ReadBurst + refilled + 1);
        Assert.Equal(statuses.Length - passed, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Hub_calls_and_live_connections_of_one_user_are_limited_across_instances()
    {
        using var user = await CreateUserFromFreshAddressAsync();
        var hubs = new List<Microsoft.AspNetCore.SignalR.Client.HubConnection>();
        try
        {
            for (var i = 0; i < ConstrainedGraphFixture.HubConnectionsPerUser; i++)
            {
                hubs.Add(await graph.ConnectHubAsync(user, Token));
            }

            // One more is closed by the server as it opens.
            var extra = GraphFixture.BuildHub(graph.GatewayAddress, user.AccessToken);
            var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            extra.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
            try
            {
                await extra.StartAsync(Token).WaitAsync(TimeSpan.FromSeconds(15), Token);
                await closed.Task.WaitAsync(TimeSpan.FromSeconds(15), Token);
            }
            catch (Exception e) when (e is not TimeoutException)
            {
                // Refused during the start: the same answer.
            }

            Assert.NotEqual(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected, extra.State);
            await extra.DisposeAsync();

            // Calls: past the burst, over all of the user's connections together, each is refused by name.
            var refused = 0;
            var calls = ConstrainedGraphFixture.HubCallBurst + 6;
            var elapsed = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < calls; i++)
            {
                try
                {
                    await hubs[i % hubs.Count].InvokeAsync<object>("Subscribe", Guid.NewGuid(), Token);
                }
                catch (Microsoft.AspNetCore.SignalR.HubException e) when (e.Message.Contains("rate_limited", StringComparison.Ordinal))
                {
                    refused++;
                }
                catch (Microsoft.AspNetCore.SignalR.HubException e) when (e.Message.Contains("quest_not_found", StringComparison.Ordinal))
                {
                    // Within the allowance: answered (the quest does not exist).
                }
            }

            // The bucket refills while the calls go out (one a second here): a busy machine's slow loop earns those back,
            // and no more.
            var allowed = ConstrainedGraphFixture.HubCallBurst + (int)Math.Ceiling(elapsed.Elapsed.TotalSeconds * ConstrainedGraphFixture.HubCallsPerMinute / 60.0);
            Assert.InRange(refused, Math.Max(0, calls - allowed), 6);

            // A closed connection frees its place.
            await hubs[0].DisposeAsync();
            hubs.RemoveAt(0);
            await Eventually.TrueAsync(async () =>
            {
                var again = GraphFixture.BuildHub(graph.GatewayAddress, user.AccessToken);
                await again.StartAsync(Token);
                await Task.Delay(500, Token);
                var kept = again.State == Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected;
                if (kept)
                {
                    hubs.Add(again);
                }
                else
                {
                    await again.DisposeAsync();
                }

                return kept;
            }, TimeSpan.FromSeconds(15));
        }
        finally
        {
            foreach (var hub in hubs)
            {
                await hub.DisposeAsync();
            }
        }
    }

    private async Task<TestUser> CreateUserFromFreshAddressAsync()
    {
        var client = graph.ClientFrom(FreshAddress());
        var email = $"limits-{Guid.NewGuid():N}@graph.test";
        using var registered = await client.PostAsJsonAsync("/api/auth/register", new { email, password = GraphFixture.UserPassword }, Token);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        await graph.VerifyEmailAsync(client, email, Token);
        using var login = await client.PostAsJsonAsync("/api/auth/login", new { email, password = GraphFixture.UserPassword }, Token);
        var tokens = await graph.ReadAsync<TokenResponse>(login, Token);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        return new TestUser(Guid.Empty, email, GraphFixture.UserPassword, tokens.AccessToken, tokens.RefreshToken, client);
    }
}
