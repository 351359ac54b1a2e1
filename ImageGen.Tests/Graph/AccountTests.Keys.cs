using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>API keys: what each may do, how long it lives, and what ends it (revocation, a password change).</summary>
public sealed partial class AccountTests
{
    [Fact]
    public async Task Changing_the_password_revokes_the_accounts_keys_unless_the_owner_keeps_them()
    {
        foreach (var keep in new[] { false, true })
        {
            using var user = await graph.CreateUserAsync(Token);
            using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "script", expiresInDays = 30 }, Token);
            var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
            using var withKey = new HttpClient { BaseAddress = graph.GatewayAddress };
            withKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
            Assert.Equal(HttpStatusCode.OK, (await withKey.GetAsync("/api/quests", Token)).StatusCode);

            using var changed = await user.Client.PostAsJsonAsync("/api/auth/change-password",
                new { currentPassword = GraphFixture.UserPassword, newPassword = "Brand-new-Passw0rd", keepApiKeys = keep }, Token);
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

            using var after = await withKey.GetAsync("/api/quests", Token);
            if (keep)
            {
                Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            }
            else
            {
                await ProblemAssert.IsProblemAsync(after, HttpStatusCode.Unauthorized, "api_key_revoked");
            }
        }
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

    [Fact]
    public async Task Revoking_a_key_closes_the_hub_connections_opened_with_it()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "a script" }, Token);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        await using var hub = GraphFixture.BuildHub(graph.GatewayAddress, key.Key);
        await hub.StartAsync(Token).WaitAsync(TimeSpan.FromSeconds(15), Token);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };

        using var revoked = await user.Client.DeleteAsync($"/api/keys/{key.Id}", Token);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15), Token);
    }

    [Fact]
    public async Task A_webhooks_key_reads_neither_the_balance_nor_image_bytes_but_a_signed_link_still_works()
    {
        using var user = await graph.CreateUserAsync(Token);
        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "scoped image", model = "local-sketch", width = 64, height = 64 }, Token);
        var image = quest.Images[0];
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "hooks", scopes = new[] { "webhooks" }, expiresInDays = 1 }, Token);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        using var withKey = new HttpClient { BaseAddress = graph.GatewayAddress };
        withKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);

        using (var me = await withKey.GetAsync("/api/me", Token))
        {
            await ProblemAssert.IsProblemAsync(me, HttpStatusCode.Forbidden, ErrorCodes.InsufficientScope);
        }

        using (var bytes = await withKey.GetAsync($"/images/{image.Id}", Token))
        {
            await ProblemAssert.IsProblemAsync(bytes, HttpStatusCode.Forbidden, ErrorCodes.InsufficientScope);
        }

        using (var settings = await withKey.GetAsync("/api/webhooks", Token))
        {
            Assert.Equal(HttpStatusCode.OK, settings.StatusCode);
        }

        // The link the API signed needs no credential at all.
        using var anonymous = new HttpClient { BaseAddress = graph.GatewayAddress };
        using var signed = await anonymous.GetAsync(image.Url, Token);
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
    }

    [Fact]
    public async Task A_key_does_only_what_its_scopes_say_and_can_never_make_another_key()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "quests only", scopes = new[] { "quests" }, expiresInDays = 30 }, Token);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        Assert.Equal(["quests"], key.Scopes);
        Assert.InRange(key.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddDays(29), DateTimeOffset.UtcNow.AddDays(31));

        using var withKey = new HttpClient { BaseAddress = graph.GatewayAddress };
        withKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        using (var submitted = await withKey.PostAsJsonAsync("/api/quests", new { prompt = "scoped", model = "local-sketch", width = 64, height = 64 }, Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        }

        using (var credits = await withKey.GetAsync("/api/credits", Token))
        {
            await ProblemAssert.IsProblemAsync(credits, HttpStatusCode.Forbidden, ErrorCodes.InsufficientScope);
        }

        // A key once made more keys: never again, whatever its scopes.
        using (var another = await withKey.PostAsJsonAsync("/api/keys", new { name = "from a key", scopes = new[] { "quests" } }, Token))
        {
            await ProblemAssert.IsProblemAsync(another, HttpStatusCode.Forbidden, ErrorCodes.SessionRequired);
        }

        using (var logout = await withKey.PostAsync("/api/auth/logout", null, Token))
        {
            await ProblemAssert.IsProblemAsync(logout, HttpStatusCode.Forbidden, ErrorCodes.SessionRequired);
        }

        using var unknown = await user.Client.PostAsJsonAsync("/api/keys", new { name = "odd", scopes = new[] { "everything" } }, Token);
        await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.BadRequest, ErrorCodes.UnknownScope, "scopes");
        using var adminScope = await user.Client.PostAsJsonAsync("/api/keys", new { name = "odd", scopes = new[] { "admin" } }, Token);
        await ProblemAssert.IsProblemAsync(adminScope, HttpStatusCode.Forbidden, ErrorCodes.ScopeNotAllowed, "scopes");
        foreach (var days in new[] { 0, -1, 100_000 })
        {
            using var badExpiry = await user.Client.PostAsJsonAsync("/api/keys", new { name = "odd", expiresInDays = days }, Token);
            await ProblemAssert.IsProblemAsync(badExpiry, HttpStatusCode.BadRequest, ErrorCodes.ValueOutOfRange, "expiresInDays");
        }
    }

    [Fact]
    public async Task An_operators_key_is_an_admin_credential_only_when_made_with_the_admin_scope()
    {
        using var plain = await graph.Admin.Client.PostAsJsonAsync("/api/keys", new { name = "operator script" }, Token);
        var plainKey = await graph.ReadAsync<CreatedApiKeyDto>(plain, Token);
        using var scoped = await graph.Admin.Client.PostAsJsonAsync("/api/keys", new { name = "operator admin script", scopes = new[] { "admin" } }, Token);
        var adminKey = await graph.ReadAsync<CreatedApiKeyDto>(scoped, Token);
        try
        {
            using var withPlain = new HttpClient { BaseAddress = graph.GatewayAddress };
            withPlain.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", plainKey.Key);
            using var refused = await withPlain.GetAsync("/api/admin/alerts", Token);
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Forbidden, ErrorCodes.InsufficientScope);

            using var withAdmin = new HttpClient { BaseAddress = graph.GatewayAddress };
            withAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey.Key);
            using var allowed = await withAdmin.GetAsync("/api/admin/alerts", Token);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }
        finally
        {
            using var _ = await graph.Admin.Client.DeleteAsync($"/api/keys/{plainKey.Id}", Token);
            using var __ = await graph.Admin.Client.DeleteAsync($"/api/keys/{adminKey.Id}", Token);
        }
    }
}
