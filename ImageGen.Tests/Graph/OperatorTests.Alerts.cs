using System.Net.Http.Json;
using System.Text.Json;
using ImageGen.Core.Operations;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>Operators are told: an alert fires on a failing provider, reaches its channels, and resolves.</summary>
public sealed partial class OperatorTests
{
    [Fact]
    public async Task A_failing_provider_fires_a_success_rate_alert_that_resolves_when_it_recovers()
    {
        const string key = "success_rate:openai";
        using var user = await graph.CreateUserAsync(Token);
        await graph.Admin.Client.PostAsJsonAsync($"/api/admin/users/{user.Id}/credits", new { kind = "grant", amount = 200, reason = "alert test" }, Token);
        var lowQuality = new { prompt = "a lantern", model = "gpt-image-1.5", quality = "low" };

        // A healthy start: whatever earlier tests left in the window, the alert is not active.
        await RepeatUntilAsync(async () =>
        {
            await graph.CreateAndWaitAsync(user, lowQuality, Token);
            return await ActiveAsync(key) is null;
        }, TimeSpan.FromSeconds(45));

        // The operators are told by a webhook and by email, once when it fires and once when it resolves.
        await using var receiver = new WebhookReceiver();
        var mailbox = $"oncall-{Guid.NewGuid():N}@graph.test";
        var channels = new List<Guid>();
        foreach (var (kind, target) in new[] { (AlertChannelKinds.Webhook, receiver.Url), (AlertChannelKinds.Email, mailbox) })
        {
            using var created = await graph.Admin.Client.PostAsJsonAsync("/api/admin/alert-channels", new { kind, target }, Token);
            channels.Add((await created.Content.ReadFromJsonAsync<AlertChannelDto>(GraphFixture.Json, Token))!.Id);
        }

        var outageAt = DateTimeOffset.UtcNow;
        await SetFaultAsync("openai", "Outage");
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var failed = await graph.SubmitAndWaitAsync(user, lowQuality, Token);
                Assert.Equal(QuestStatus.Failed, failed.Status);
            }

            AlertDto? fired = null;
            await RepeatUntilAsync(async () => (fired = await ActiveAsync(key)) is not null, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(500));
            Assert.True(fired!.FiredAt >= outageAt.AddSeconds(-1));
            Assert.True(fired.Value < 0.95);
            Assert.Contains("openai", fired.Message);
        }
        finally
        {
            await SetFaultAsync("openai", "Healthy");
        }

        // Recovered: once the failures have left the window and successes fill it, the alert resolves (and stays listed).
        await RepeatUntilAsync(async () =>
        {
            await graph.SubmitAndWaitAsync(user, lowQuality, Token);
            return await ActiveAsync(key) is null;
        }, TimeSpan.FromSeconds(60));
        var all = await graph.Admin.Client.GetFromJsonAsync<List<AlertDto>>("/api/admin/alerts", GraphFixture.Json, Token);
        Assert.Contains(all!, a => a.Key == key && a.FiredAt >= outageAt.AddSeconds(-1) && a.ResolvedAt is not null);
        Assert.Contains(graph.LogLines, l => l.Contains($"Alert {key} fired", StringComparison.Ordinal));

        try
        {
            string Event(WebhookReceiver.Received r) => JsonDocument.Parse(r.Body).RootElement.GetProperty("alert") is var a && a.GetProperty("key").GetString() == key
                ? a.GetProperty("event").GetString()! : "";
            await receiver.WaitForAsync(r => Event(r) == AlertEvents.Resolved, TimeSpan.FromSeconds(20), Token);
            Assert.Equal([AlertEvents.Fired, AlertEvents.Resolved], receiver.Requests.Where(r => !r.Duplicate).Select(Event).Where(e => e.Length > 0));
            await Eventually.TrueAsync(async () => (await graph.Inbox.MessagesToAsync(mailbox, Token)).Select(m => m.Subject).Where(m => m.Contains($" {key} ", StringComparison.Ordinal)).Order()
                .SequenceEqual([$"[ImageGen alert] {key} fired", $"[ImageGen alert] {key} resolved"]), TimeSpan.FromSeconds(20));
        }
        finally
        {
            foreach (var id in channels)
            {
                (await graph.Admin.Client.DeleteAsync($"/api/admin/alert-channels/{id}", Token)).Dispose();
            }
        }
    }

    private async Task<AlertDto?> ActiveAsync(string key) =>
        (await graph.Admin.Client.GetFromJsonAsync<List<AlertDto>>("/api/admin/alerts?active=true", GraphFixture.Json, Token))!.FirstOrDefault(a => a.Key == key);

    /// <summary>Runs <paramref name="attempt"/> until it answers true, or fails the test after <paramref name="limit"/>.</summary>
    private static async Task RepeatUntilAsync(Func<Task<bool>> attempt, TimeSpan limit, TimeSpan? pause = null)
    {
        var until = DateTimeOffset.UtcNow + limit;
        while (!await attempt())
        {
            Assert.True(DateTimeOffset.UtcNow < until, $"not reached within {limit.TotalSeconds:0} s");
            if (pause is { } p)
            {
                await Task.Delay(p, Token);
            }
        }
    }
}
