using System.Collections.Concurrent;
using System.Text.Json;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

// Receive ImageGen's webhooks: check each signature with the account's secret, and handle each event once
// (a retry carries the same webhook-id).
internal static class ReceiveWebhooks
{
    public static void Run()
    {
        var webhook = new StandardWebhook(Environment.GetEnvironmentVariable("IMAGEGEN_WEBHOOK_SECRET")!); // whsec_...
        var handled = new ConcurrentDictionary<string, bool>();
        var app = WebApplication.Create();
        app.MapPost("/", async (HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            try
            {
                webhook.Verify(body, request.Headers);
            }
            catch (WebhookVerificationException)
            {
                return Results.Unauthorized();
            }

            if (handled.TryAdd(request.Headers["webhook-id"].ToString(), true))
            {
                var e = JsonDocument.Parse(body).RootElement;
                Console.WriteLine($"{e.GetProperty("type")} {e.GetProperty("data").GetProperty("id")} {e.GetProperty("data").GetProperty("status")}");
            }

            return Results.NoContent();
        });
        app.Run($"http://127.0.0.1:{Environment.GetEnvironmentVariable("PORT") ?? "3000"}");
    }
}
