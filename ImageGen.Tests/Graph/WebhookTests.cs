using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;

namespace ImageGen.Tests.Graph;

/// <summary>
/// Webhooks as a customer meets them through the gateway: a quest names its endpoint (or the account's default takes
/// it), the events arrive signed with the account's secret, a failing receiver gets the same event again, and the
/// delivery log and the operators' timeline show every attempt. A webhook aimed inside the network is refused.
/// </summary>
public sealed class WebhookTests(GraphFixture graph) : IAsyncDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    private readonly WebhookReceiver _receiver = new();

    [Fact]
    public async Task A_quest_with_a_webhook_sends_its_events_signed_and_a_500_is_retried_with_the_same_id()
    {
        using var user = await graph.CreateUserAsync(Token);
        var secret = await NewSecretAsync(user);
        _receiver.AnswerNext(500);

        var quest = await graph.CreateAndWaitAsync(user, new
        {
            prompt = "a lighthouse at dusk", model = "local-sketch", width = 256, height = 256,
            webhook = _receiver.Url, webhookEvents = new[] { "started", "completed" },
        }, Token);

        var succeeded = await _receiver.WaitForAsync(r => r.Status == 200 && r.Type == "quest.succeeded", DeliveryTimeout, Token);
        var started = await _receiver.WaitForAsync(r => r.Status == 200 && r.Type == "quest.started", DeliveryTimeout, Token);
        var received = _receiver.Requests.ToArray();
        // The first request (whichever event it was) was answered 500 and came again: same id, same body.
        Assert.Equal(500, received[0].Status);
        var retried = Assert.Single(received, r => r.Id == received[0].Id && r.Status == 200);
        Assert.Equal(received[0].Body, retried.Body);
        Assert.All(received, r => Assert.True(r.SignedWith(secret), "every delivery is signed with the account's secret"));
        Assert.DoesNotContain(received, r => r.Type == "quest.progress");
        Assert.NotEqual(started.Id, succeeded.Id);

        using var body = JsonDocument.Parse(succeeded.Body);
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(quest.Id, data.GetProperty("id").GetGuid());
        // The image link in the event loads.
        var link = data.GetProperty("images")[0].GetProperty("url").GetString()!;
        using var image = await graph.Gateway.GetAsync(link, Token);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);

        // The owner's delivery log shows each attempt with the receiver's status.
        var log = await user.Client.GetFromJsonAsync<WebhookDeliveryPage>($"/api/webhooks/deliveries?questId={quest.Id}", GraphFixture.Json, Token);
        var first = Assert.Single(log!.Items, d => d.Id == received[0].Id);
        Assert.Equal("delivered", first.State);
        Assert.Equal([500, 200], first.AttemptLog.Select(a => a.Status));

        // The operators' timeline too.
        var debug = await graph.Admin.Client.GetFromJsonAsync<QuestDebugDto>($"/api/admin/quests/{quest.Id}/debug", GraphFixture.Json, Token);
        Assert.Contains(debug!.Timeline, s => s.Kind == QuestStepKinds.Webhook && s.HttpStatus == 500);
    }

    [Fact]
    public async Task The_default_endpoint_takes_quests_that_name_none_and_its_secret_is_shown_once()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var set = await user.Client.PutAsJsonAsync("/api/webhooks", new { url = _receiver.Url, events = new[] { "completed" } }, Token);
        Assert.Equal(HttpStatusCode.Created, set.StatusCode);
        var secret = (await graph.ReadAsync<WebhookSettingsDto>(set, Token)).NewSecret!;

        using var again = await user.Client.PutAsJsonAsync("/api/webhooks", new { url = _receiver.Url, events = new[] { "completed" } }, Token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.DoesNotContain(secret, await again.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        var settings = await user.Client.GetFromJsonAsync<WebhookSettingsDto>("/api/webhooks", GraphFixture.Json, Token);
        Assert.Equal((_receiver.Url, true, secret[^4..]), (settings!.Url, settings.HasSecret, settings.SecretEndsWith));

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a quiet harbour", model = "local-sketch", width = 128, height = 128 }, Token);
        var delivered = await _receiver.WaitForAsync(r => r.Type == "quest.succeeded", DeliveryTimeout, Token);
        Assert.True(delivered.SignedWith(secret));
        Assert.Contains(quest.Id.ToString(), delivered.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://10.0.0.1/hook", ErrorCodes.WebhookUrlNotAllowed)]
    [InlineData("http://169.254.169.254/latest/meta-data/", ErrorCodes.WebhookUrlNotAllowed)]
    [InlineData("http://[::1]:8080/hook", ErrorCodes.WebhookUrlNotAllowed)]
    [InlineData("http://127.0.0.2:8080/hook", ErrorCodes.WebhookUrlNotAllowed)]
    [InlineData("gopher://example.com/hook", ErrorCodes.WebhookUrlInvalid)]
    public async Task A_webhook_inside_the_network_is_refused_and_nothing_is_charged(string url, string code)
    {
        using var user = await graph.CreateUserAsync(Token);
        await NewSecretAsync(user);
        var before = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);

        using var refused = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "x", model = "local-sketch", webhook = url }, Token);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest, code, "webhook");
        using var setDefault = await user.Client.PutAsJsonAsync("/api/webhooks", new { url }, Token);
        await ProblemAssert.IsProblemAsync(setDefault, HttpStatusCode.BadRequest, code, "url");

        var after = await user.Client.GetFromJsonAsync<CreditsDto>("/api/credits", GraphFixture.Json, Token);
        Assert.Equal(before!.Balance, after!.Balance);
        Assert.Empty((await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token))!.Items);
    }

    [Fact]
    public async Task A_webhook_needs_a_secret_an_event_filter_must_name_events_and_strangers_see_nothing()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var unsigned = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "x", model = "local-sketch", webhook = _receiver.Url }, Token);
        await ProblemAssert.IsProblemAsync(unsigned, HttpStatusCode.BadRequest, ErrorCodes.WebhookSecretMissing, "webhook");

        await NewSecretAsync(user);
        using var unknown = await user.Client.PostAsJsonAsync("/api/quests",
            new { prompt = "x", model = "local-sketch", webhook = _receiver.Url, webhookEvents = new[] { "everything" } }, Token);
        await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.BadRequest, ErrorCodes.WebhookEventsInvalid, "webhookEvents");

        var quest = await graph.CreateAndWaitAsync(user, new { prompt = "a lantern", model = "local-sketch", width = 128, height = 128, webhook = _receiver.Url }, Token);
        var delivered = await _receiver.WaitForAsync(r => r.Type == "quest.succeeded", DeliveryTimeout, Token);

        // Another account cannot read the log, nor send the delivery again.
        using var stranger = await graph.CreateUserAsync(Token);
        var theirs = await stranger.Client.GetFromJsonAsync<WebhookDeliveryPage>($"/api/webhooks/deliveries?questId={quest.Id}", GraphFixture.Json, Token);
        Assert.Empty(theirs!.Items);
        using var redeliver = await stranger.Client.PostAsync($"/api/webhooks/deliveries/{delivered.Id}/redeliver", null, Token);
        await ProblemAssert.IsProblemAsync(redeliver, HttpStatusCode.NotFound, ErrorCodes.WebhookNotFound);

        // A key without the webhooks scope cannot read the secret's settings or rotate it.
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "quests only" }, Token);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        using var withKey = new HttpClient { BaseAddress = graph.GatewayAddress };
        withKey.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Key);
        using var rotate = await withKey.PostAsync("/api/webhooks/secret", null, Token);
        Assert.Equal(HttpStatusCode.Forbidden, rotate.StatusCode);

        // The owner can: the same id and body go out again.
        using var mine = await user.Client.PostAsync($"/api/webhooks/deliveries/{delivered.Id}/redeliver", null, Token);
        Assert.Equal(HttpStatusCode.Accepted, mine.StatusCode);
        var again = await _receiver.WaitForAsync(r => r.Id == delivered.Id && r.Duplicate, DeliveryTimeout, Token);
        Assert.Equal(delivered.Body, again.Body);
    }

    [Fact]
    public async Task The_openai_compatible_call_takes_a_webhook_as_an_extra_field()
    {
        using var user = await graph.CreateUserAsync(Token);
        var secret = await NewSecretAsync(user);
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "script" }, Token);
        var key = await graph.ReadAsync<CreatedApiKeyDto>(created, Token);
        using var client = new HttpClient { BaseAddress = graph.GatewayAddress, Timeout = TimeSpan.FromSeconds(120) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key.Key);

        using var inside = await client.PostAsJsonAsync("/v1/images/generations", new { model = "local-sketch", prompt = "x", webhook = "http://192.168.1.1/hook" }, Token);
        Assert.Equal(HttpStatusCode.BadRequest, inside.StatusCode);
        using (var envelope = JsonDocument.Parse(await inside.Content.ReadAsStringAsync(Token)))
        {
            var error = envelope.RootElement.GetProperty("error");
            Assert.Equal(("webhook", ErrorCodes.WebhookUrlNotAllowed), (error.GetProperty("param").GetString(), error.GetProperty("code").GetString()));
        }

        using var generated = await client.PostAsJsonAsync("/v1/images/generations",
            new { model = "local-sketch", prompt = "a paper boat", size = "128x128", webhook = _receiver.Url }, Token);
        Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        var questId = generated.Headers.GetValues("X-ImageGen-Quest-Id").Single();
        var delivered = await _receiver.WaitForAsync(r => r.Type == "quest.succeeded", DeliveryTimeout, Token);
        Assert.True(delivered.SignedWith(secret));
        Assert.Contains(questId, delivered.Body, StringComparison.Ordinal);
    }

    private async Task<string> NewSecretAsync(TestUser user)
    {
        using var response = await user.Client.PostAsync("/api/webhooks/secret", null, Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await graph.ReadAsync<WebhookSecretDto>(response, Token)).Secret;
    }

    public ValueTask DisposeAsync() => _receiver.DisposeAsync();
}
