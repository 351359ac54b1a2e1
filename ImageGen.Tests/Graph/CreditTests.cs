using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Tests.Graph;

public sealed class CreditTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Success_captures_the_reservation_once_and_the_balance_drops_by_the_cost()
    {
        using var user = await graph.CreateUserAsync(Token);
        // 1024 x 1536 is 1.5 megapixels: 2 credits by the local model's rule.
        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a tall tower", model = "local-sketch", width = 1024, height = 1536 }, Token);
        Assert.Equal(2, quest.Cost);

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(98, credits!.Balance);
        Assert.Equal(0, credits.Reserved);
        var entries = credits.Entries.Where(e => e.QuestId == quest.Id).OrderBy(e => e.Id).Select(e => (e.Kind, e.Amount));
        Assert.Equal([(CreditEntryKind.Reserve, -2), (CreditEntryKind.Capture, 0)], entries);
    }

    [Fact]
    public async Task Fifty_parallel_submits_on_a_balance_for_ten_accept_exactly_ten()
    {
        using var user = await graph.CreateUserAsync(Token);
        await AdjustAsync(user.Id, CreditEntryKind.Adjust, -90, "leave exactly ten credits");

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"parallel {i}", model = "local-sketch", width = 64, height = 64 }, Token);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(Token));
        }));

        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.Accepted).ToList();
        Assert.Equal(40, refused.Count);
        Assert.All(refused, r =>
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, r.StatusCode);
            Assert.Contains("\"code\":\"insufficient_credits\"", r.Body, StringComparison.Ordinal);
        });

        var page = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests?limit=100", GraphFixture.Json, Token);
        Assert.Equal(10, page!.Items.Count);
        foreach (var quest in page.Items)
        {
            Assert.Equal(QuestStatus.Succeeded, (await graph.WaitForEndAsync(user, quest.Id, Token)).Status);
        }

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits?limit=200", GraphFixture.Json, Token);
        Assert.Equal(0, credits!.Balance);
        Assert.Equal(0, credits.Reserved);
        Assert.Equal(10, credits.Entries.Count(e => e.Kind == CreditEntryKind.Capture));
        Assert.Equal(credits.Balance, credits.Entries.Sum(e => e.Amount));
    }

    [Fact]
    public async Task Every_balance_the_api_reads_is_the_sum_of_that_users_ledger()
    {
        using var user = await graph.CreateUserAsync(Token);
        await graph.CreateAndWaitAsync(user, new { prompt = "a small boat", model = "local-sketch", width = 64, height = 64 }, Token);
        await AdjustAsync(user.Id, CreditEntryKind.Grant, 7, "a balance made of several entries");

        // Balances are kept as entries are added; whatever the suite has done so far, none may drift from its ledger.
        await using var db = await graph.ConnectDatabaseAsync();
        var drifted = await db.Database.SqlQuery<Guid>($"""
            SELECT u.id AS "Value" FROM users u
            LEFT JOIN credit_accounts a ON a.user_id = u.id
            LEFT JOIN (SELECT user_id, SUM(amount)::int AS total FROM credit_entries GROUP BY user_id) l ON l.user_id = u.id
            WHERE COALESCE(a.balance, 0) <> COALESCE(l.total, 0)
            """).ToListAsync(Token);
        Assert.Empty(drifted);
        var me = await user.Client.GetFromJsonAsync<MeDto>("/api/me", GraphFixture.Json, Token);
        Assert.Equal(100 - 1 + 7, me!.Balance);
    }

    [Fact]
    public async Task Not_enough_credits_is_a_402_with_balance_and_cost_and_nothing_is_queued()
    {
        using var user = await graph.CreateUserAsync(Token);
        await AdjustAsync(user.Id, CreditEntryKind.Adjust, -99, "leave one credit");

        using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "too big", model = "local-sketch", width = 2048, height = 2048 }, Token);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PaymentRequired, ErrorCodes.InsufficientCredits);
        Assert.Equal(1, problem.GetProperty("balance").GetInt32());
        Assert.Equal(4, problem.GetProperty("cost").GetInt32());
        var page = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
        Assert.Empty(page!.Items);
    }

    [Theory]
    [InlineData("adjust", -101, HttpStatusCode.Conflict, ErrorCodes.BalanceWouldBeNegative, "amount")]
    [InlineData("adjust", 1_000_001, HttpStatusCode.BadRequest, ErrorCodes.AmountOutOfRange, "amount")]
    [InlineData("grant", -5, HttpStatusCode.BadRequest, ErrorCodes.AmountOutOfRange, "amount")]
    [InlineData("grant", 0, HttpStatusCode.BadRequest, ErrorCodes.AmountOutOfRange, "amount")]
    [InlineData("refund", 5, HttpStatusCode.BadRequest, ErrorCodes.InvalidType, "kind")]
    public async Task Bad_admin_adjustments_are_refused_and_change_nothing(string kind, int amount, HttpStatusCode status, string code, string field)
    {
        using var user = await graph.CreateUserAsync(Token);

        using var response = await graph.Admin.Client.PostAsJsonAsync($"/api/admin/users/{user.Id}/credits", new { kind, amount, reason = "test" }, Token);

        await ProblemAssert.IsProblemAsync(response, status, code, field);
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100, credits!.Balance);
        Assert.Single(credits.Entries);
    }

    [Fact]
    public async Task An_admin_grant_needs_a_reason_and_shows_in_the_users_ledger()
    {
        using var user = await graph.CreateUserAsync(Token);

        using var noReason = await graph.Admin.Client.PostAsJsonAsync($"/api/admin/users/{user.Id}/credits", new { kind = "grant", amount = 25 }, Token);
        await ProblemAssert.IsProblemAsync(noReason, HttpStatusCode.BadRequest, ErrorCodes.ReasonRequired, "reason");

        using var granted = await graph.Admin.Client.PostAsJsonAsync($"/api/admin/users/{user.Id}/credits", new { kind = "grant", amount = 25, reason = "contest prize" }, Token);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(125, credits!.Balance);
        Assert.Contains(credits.Entries, e => e.Kind == CreditEntryKind.Grant && e.Amount == 25 && e.Reason == "contest prize");

        var found = await graph.Admin.Client.GetFromJsonAsync<List<UserSummaryDto>>($"/api/admin/users?email={Uri.EscapeDataString(user.Email)}", GraphFixture.Json, Token);
        Assert.Equal(125, Assert.Single(found!).Balance);
    }

    [Fact]
    public async Task Admin_routes_refuse_ordinary_users_with_403_and_anonymous_callers_with_401()
    {
        using var user = await graph.CreateUserAsync(Token);

        using var asUser = await user.Client.GetAsync("/api/admin/users", Token);
        await ProblemAssert.IsProblemAsync(asUser, HttpStatusCode.Forbidden, "forbidden");
        using var grantAsUser = await user.Client.PostAsJsonAsync($"/api/admin/users/{user.Id}/credits", new { kind = "grant", amount = 1000, reason = "me" }, Token);
        await ProblemAssert.IsProblemAsync(grantAsUser, HttpStatusCode.Forbidden, "forbidden");

        using var anonymous = await graph.Gateway.GetAsync("/api/admin/users", Token);
        await ProblemAssert.IsProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");

        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(100, credits!.Balance);
    }

    private async Task AdjustAsync(Guid userId, CreditEntryKind kind, int amount, string reason)
    {
        using var response = await graph.Admin.Client.PostAsJsonAsync($"/api/admin/users/{userId}/credits", new { kind = kind.ToString().ToLowerInvariant(), amount, reason }, Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_grant_sent_twice_with_one_idempotency_key_is_made_once()
    {
        using var user = await graph.CreateUserAsync(Token);
        var sends = Enumerable.Range(0, 4).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/users/{user.Id}/credits")
            {
                Content = JsonContent.Create(new { kind = "grant", amount = 25, reason = "a retried grant" }),
                Headers = { { "Idempotency-Key", "grant-once-" + user.Id } },
            };
            using var response = await graph.Admin.Client.SendAsync(request, Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await graph.ReadAsync<CreditEntryDto>(response, Token)).Id;
        });

        var ids = await Task.WhenAll(sends);
        Assert.Single(ids.Distinct());
        var credits = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(125, credits!.Balance);

        // The same key for a different amount is refused, not applied.
        using var different = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/users/{user.Id}/credits")
        {
            Content = JsonContent.Create(new { kind = "grant", amount = 999, reason = "a retried grant" }),
            Headers = { { "Idempotency-Key", "grant-once-" + user.Id } },
        };
        using var refused = await graph.Admin.Client.SendAsync(different, Token);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.UnprocessableEntity, ErrorCodes.IdempotencyKeyReused);

        // A key too long for its column, or with a control character, is refused by name and grants nothing.
        foreach (var bad in new[] { new string('k', 256), "key\u0001" })
        {
            using var malformed = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/users/{user.Id}/credits")
            {
                Content = JsonContent.Create(new { kind = "grant", amount = 5, reason = "malformed key" }),
            };
            malformed.Headers.TryAddWithoutValidation("Idempotency-Key", bad);
            using var answer = await graph.Admin.Client.SendAsync(malformed, Token);
            await ProblemAssert.IsProblemAsync(answer, HttpStatusCode.BadRequest, ErrorCodes.InvalidIdempotencyKey, "Idempotency-Key");
        }

        var after = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(125, after!.Balance);
    }

    [Fact]
    public async Task A_key_with_a_monthly_cap_stops_at_it_on_every_surface_while_the_session_goes_on()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "capped", scopes = new[] { "quests" }, expiresInDays = 30, monthlySpendCap = 3 }, Token);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        Assert.Equal(3, key.MonthlySpendCap);
        using var withKey = new HttpClient { BaseAddress = graph.GatewayAddress };
        withKey.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Key);
        var body = new { prompt = "capped", model = "local-sketch", width = 64, height = 64 };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var submitted = await withKey.PostAsJsonAsync("/api/quests", body, Token);
            statuses.Add(submitted.StatusCode);
            if (submitted.StatusCode != HttpStatusCode.Accepted)
            {
                await ProblemAssert.IsProblemAsync(submitted, HttpStatusCode.PaymentRequired, ErrorCodes.KeySpendCapReached);
                break;
            }
        }

        Assert.Contains(HttpStatusCode.Accepted, statuses);
        Assert.Equal(HttpStatusCode.PaymentRequired, statuses[^1]);
        using (var openAi = await withKey.PostAsJsonAsync("/v1/images/generations", new { prompt = "capped", model = "local-sketch", size = "64x64" }, Token))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, openAi.StatusCode);
        }

        using var session = await user.Client.PostAsJsonAsync("/api/quests", body, Token);
        Assert.Equal(HttpStatusCode.Accepted, session.StatusCode);
        var listed = Assert.Single((await user.Client.GetFromJsonAsync<List<ApiKeyDto>>("/api/keys", GraphFixture.Json, Token))!);
        Assert.Equal(3, listed.MonthlySpendCap);

        using var badCap = await user.Client.PostAsJsonAsync("/api/keys", new { name = "odd", monthlySpendCap = 0 }, Token);
        await ProblemAssert.IsProblemAsync(badCap, HttpStatusCode.BadRequest, ErrorCodes.ValueOutOfRange, "monthlySpendCap");
    }

    [Fact]
    public async Task The_spend_summary_splits_charged_credits_by_model_key_and_month()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "nightly script", scopes = new[] { "quests", "credits:read" } }, Token);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        using var keyed = graph.ClientFrom(GraphFixture.FreshLoopbackAddress());
        keyed.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Key);
        var viaKey = user with { Client = keyed };

        var small = await graph.CreateAndWaitAsync(user, new { prompt = "a kite", model = "local-sketch", width = 256, height = 256 }, Token);
        var large = await graph.CreateAndWaitAsync(viaKey, new { prompt = "a field", model = "local-sketch", width = 2048, height = 2048 }, Token);
        var openAi = await graph.CreateAndWaitAsync(viaKey, new { prompt = "a lamp", model = "gpt-image-1.5", quality = "low" }, Token);

        var spend = (await keyed.GetFromJsonAsync<SpendDto>("/api/credits/spend", GraphFixture.Json, Token))!;
        var charged = new[] { small, large, openAi }.Sum(q => q.Cost);
        Assert.Equal(charged, spend.Total);
        Assert.Equal(100 - charged, (await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token))!.Balance);
        Assert.Equal([("gpt-image-1.5", openAi.Cost, 1), ("local-sketch", small.Cost + large.Cost, 2)],
            spend.ByModel.Select(m => (m.Model, m.Credits, m.Quests)).OrderBy(m => m.Model));
        Assert.Equal([("nightly script", large.Cost + openAi.Cost, 2), ("signed-in session", small.Cost, 1)],
            spend.ByKey.Select(k => (k.Name, k.Credits, k.Quests)).OrderBy(k => k.Name));
        Assert.Equal(key.Id, spend.ByKey.Single(k => k.Name == "nightly script").KeyId);
        Assert.Equal((DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), charged, 3),
            (Assert.Single(spend.ByMonth).Month, spend.ByMonth[0].Credits, spend.ByMonth[0].Quests));
        Assert.Equal((DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), charged),
            (Assert.Single(spend.ByDay).Month, spend.ByDay[0].Credits));

        // The same figures grouped one way, as /api/credits/usage serves them.
        var usage = (await keyed.GetFromJsonAsync<UsageDto>("/api/credits/usage?groupBy=key", GraphFixture.Json, Token))!;
        Assert.Equal(("key", charged), (usage.GroupBy, usage.Total));
        Assert.Equal([(key.Id.ToString(), "nightly script", large.Cost + openAi.Cost), ("session", "signed-in session", small.Cost)],
            usage.Rows.Select(r => (r.Key, r.Label, r.Credits)).OrderBy(r => r.Label));
        using (var badGroup = await user.Client.GetAsync("/api/credits/usage?groupBy=colour", Token))
        {
            await ProblemAssert.IsProblemAsync(badGroup, HttpStatusCode.BadRequest, ErrorCodes.InvalidValue, "groupBy");
        }

        // Another user's summary has none of it; a backwards period is refused by field.
        using var other = await graph.CreateUserAsync(Token);
        Assert.Equal(0, (await other.Client.GetFromJsonAsync<SpendDto>("/api/credits/spend", GraphFixture.Json, Token))!.Total);
        using var backwards = await user.Client.GetAsync("/api/credits/spend?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", Token);
        await ProblemAssert.IsProblemAsync(backwards, HttpStatusCode.BadRequest, ErrorCodes.ValueOutOfRange, "from");
    }
}
