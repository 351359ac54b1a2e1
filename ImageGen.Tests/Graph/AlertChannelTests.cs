using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageGen.Core.Operations;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>Alert channels as an operator sets them up: a webhook and an email address, a test message to each, and what is refused.</summary>
public sealed class AlertChannelTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_test_message_reaches_a_signed_webhook_and_a_mailbox_and_the_delivery_log_says_so()
    {
        await using var receiver = new WebhookReceiver();
        var mailbox = $"ops-{Guid.NewGuid():N}@graph.test";
        var webhook = await CreateAsync(AlertChannelKinds.Webhook, receiver.Url);
        var email = await CreateAsync(AlertChannelKinds.Email, mailbox);
        try
        {
            Assert.StartsWith("whsec_", webhook.Secret, StringComparison.Ordinal);
            Assert.Null(email.Secret);
            // The secret is shown once: the list does not carry it.
            var listed = (await graph.Admin.Client.GetFromJsonAsync<List<AlertChannelDto>>("/api/admin/alert-channels", GraphFixture.Json, Token))!;
            Assert.All(listed, c => Assert.Null(c.Secret));

            foreach (var channel in new[] { webhook, email })
            {
                using var test = await graph.Admin.Client.PostAsync($"/api/admin/alert-channels/{channel.Id}/test", null, Token);
                Assert.Equal(HttpStatusCode.Accepted, test.StatusCode);
            }

            var received = await receiver.WaitForAsync(_ => true, TimeSpan.FromSeconds(20), Token);
            Assert.True(received.SignedWith(webhook.Secret!));
            var body = JsonDocument.Parse(received.Body).RootElement;
            Assert.Contains("test message", body.GetProperty("text").GetString(), StringComparison.Ordinal);
            Assert.Equal(AlertEvents.Test, body.GetProperty("alert").GetProperty("event").GetString());

            await Eventually.TrueAsync(async () => (await graph.Inbox.MessagesToAsync(mailbox, Token)).Any(m => m.Subject.Contains("test message", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(20));
            await Eventually.TrueAsync(async () =>
            {
                var log = (await graph.Admin.Client.GetFromJsonAsync<List<AlertDeliveryDto>>("/api/admin/alert-deliveries?limit=200", GraphFixture.Json, Token))!;
                return new[] { webhook.Id, email.Id }.All(id => log.Any(d => d.ChannelId == id && d.Event == AlertEvents.Test && d.Status == AlertDeliveryStatus.Sent && d.SentAt is not null));
            }, TimeSpan.FromSeconds(20));
        }
        finally
        {
            (await graph.Admin.Client.DeleteAsync($"/api/admin/alert-channels/{webhook.Id}", Token)).Dispose();
            (await graph.Admin.Client.DeleteAsync($"/api/admin/alert-channels/{email.Id}", Token)).Dispose();
        }
    }

    [Theory]
    [InlineData("webhook", "http://10.0.0.7/hooks", ErrorCodes.WebhookUrlNotAllowed)]
    [InlineData("webhook", "http://169.254.169.254/latest/meta-data", ErrorCodes.WebhookUrlNotAllowed)]
    [InlineData("webhook", "http://127.0.0.2:9/hook", ErrorCodes.WebhookUrlNotAllowed)]
    [InlineData("webhook", "http://[::1]/hook", ErrorCodes.WebhookUrlNotAllowed)]
    [InlineData("webhook", "ftp://example.com/hook", ErrorCodes.WebhookUrlInvalid)]
    [InlineData("email", "not an address", ErrorCodes.InvalidEmail)]
    [InlineData("email", "ops@example.com\r\nBcc: everyone@example.com", ErrorCodes.InvalidEmail)]
    [InlineData("pager", "ops@example.com", ErrorCodes.InvalidValue)]
    public async Task A_channel_pointing_inside_the_network_or_malformed_is_refused(string kind, string target, string code)
    {
        using var response = await graph.Admin.Client.PostAsJsonAsync("/api/admin/alert-channels", new { kind, target }, Token);
        var problem = await ProblemAssert.ReadJsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {problem}");
        var codes = problem.TryGetProperty("errors", out var errors)
            ? errors.EnumerateArray().Select(e => e.GetProperty("code").GetString()).ToList()
            : [problem.GetProperty("code").GetString()];
        Assert.Contains(code, codes);
    }

    [Fact]
    public async Task Only_operators_see_or_set_alert_channels()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var list = await user.Client.GetAsync("/api/admin/alert-channels", Token);
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        using var create = await user.Client.PostAsJsonAsync("/api/admin/alert-channels", new { kind = "email", target = "me@example.com" }, Token);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
    }

    private async Task<AlertChannelDto> CreateAsync(string kind, string target)
    {
        using var response = await graph.Admin.Client.PostAsJsonAsync("/api/admin/alert-channels", new { kind, target }, Token);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<AlertChannelDto>(GraphFixture.Json, Token))!;
    }
}
