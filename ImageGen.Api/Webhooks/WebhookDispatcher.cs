using System.Diagnostics;
using System.Text.Json;
using ImageGen.Api.Apis;
using ImageGen.Api.Images;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;
using ImageGen.Data.Webhooks;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Webhooks;

/// <summary>
/// Sends the webhook outbox: every API instance takes due deliveries (each row by one instance), posts them signed,
/// and records the outcome. A <c>2xx</c> answer delivers; anything else (another status, a timeout, a refused or
/// unreachable address, a redirect, which is never followed) is tried again after the next wait of the schedule, and
/// given up after the last; <c>410 Gone</c> gives up at once. The same event always goes with the same
/// <c>webhook-id</c> and body, so receivers drop duplicates.
/// </summary>
internal sealed partial class WebhookDispatcher(
    IServiceScopeFactory scopes, IHttpClientFactory clients, IOptions<WebhookOptions> options, IOptions<JsonOptions> json, TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    private readonly WebhookOptions _options = options.Value;

    // A quest event means a transition just committed, perhaps with a delivery: one pending wake-up is enough.
    private readonly System.Threading.Channels.Channel<bool> _wake = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });

    /// <summary>Looks for due deliveries now rather than at the next poll (called for every quest event).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);
    private readonly IReadOnlyList<TimeSpan> _delays = options.Value.Delays();

    /// <summary>The least time between two looks at the outbox when woken by quest events.</summary>
    private static readonly TimeSpan MinGap = TimeSpan.FromMilliseconds(250);

    /// <summary>How often an instance forgets old deliveries.</summary>
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextPrune = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var passStarted = time.GetUtcNow();
            var sent = 0;
            try
            {
                sent = await DispatchDueAsync(stoppingToken);
                if (time.GetUtcNow() >= nextPrune)
                {
                    nextPrune = time.GetUtcNow() + PruneEvery;
                    await PruneAsync(stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Postgres away: the rows wait, nothing is lost; try again after the interval.
                LogPassFailed(logger, e);
            }

            if (sent == 0)
            {
                // Until a quest event arrives, or the poll interval passes (retries come due without an event).
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                idle.CancelAfter(_options.PollInterval);
                try
                {
                    await _wake.Reader.ReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }

                // Under load every quest event wakes it: one look per gap at most, not one query per event.
                var gap = MinGap - (time.GetUtcNow() - passStarted);
                if (gap > TimeSpan.Zero)
                {
                    await Task.Delay(gap, time, stoppingToken);
                }
            }
        }
    }

    /// <summary>Forgets deliveries that ended longer ago than the log keeps them, a thousand at a time.</summary>
    internal async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<WebhookOutbox>();
        var before = time.GetUtcNow() - _options.KeepFor;
        int pruned, total = 0;
        do
        {
            pruned = await outbox.PruneAsync(before, 1000, cancellationToken);
            total += pruned;
        }
        while (pruned == 1000);
        return total;
    }

    /// <summary>One pass: takes what is due (up to the concurrency) and sends it; returns how many were taken.</summary>
    internal async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        List<WebhookDelivery> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            // Held for longer than an attempt can take, so a live dispatcher's row is never taken twice.
            due = await scope.ServiceProvider.GetRequiredService<WebhookOutbox>()
                .TakeDueAsync(_options.Concurrency, _options.AttemptTimeout * 3 + TimeSpan.FromSeconds(30), cancellationToken);
        }

        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken }, SendAsync);
        return due.Count;
    }

    private async ValueTask SendAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<WebhookOutbox>();
        var payload = delivery.Payload ?? await BuildPayloadAsync(scope.ServiceProvider, delivery, cancellationToken);
        var secrets = await outbox.EndpointAsync(delivery.UserId, cancellationToken);
        var result = (payload, secrets) switch
        {
            (null, _) => new WebhookAttemptResult(null, false, "The quest no longer exists.", TimeSpan.Zero),
            (_, null) => new WebhookAttemptResult(null, false, "The account has no webhook secret (it was deleted): nothing is sent unsigned.", TimeSpan.Zero),
            _ => await PostAsync(delivery, payload, secrets, cancellationToken),
        };

        var final = payload is null || secrets is null || result.StatusCode == StatusCodes.Status410Gone;
        DateTimeOffset? retryAt = result.Delivered || final || delivery.Attempts > _delays.Count
            ? null
            : time.GetUtcNow() + _delays[delivery.Attempts - 1];
        await outbox.RecordAsync(delivery, payload, result, retryAt, cancellationToken);
        if (result.Delivered)
        {
            LogDelivered(logger, delivery.Type, delivery.QuestId, delivery.Attempts, result.StatusCode);
        }
        else
        {
            LogNotDelivered(logger, delivery.Type, delivery.QuestId, delivery.Attempts, result.StatusCode, result.Error, retryAt is null);
        }
    }

    private async Task<WebhookAttemptResult> PostAsync(WebhookDelivery delivery, string payload, WebhookEndpoint secrets, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json"),
            };
            foreach (var (name, value) in WebhookSignature.Headers(secrets, WebhookSignature.MessageId(delivery.Id), time.GetUtcNow(), payload, _options.SecretOverlap))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.AttemptTimeout);
            // The answer's body is not read: its status is all a receiver tells us.
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var delivered = status is >= 200 and < 300;
            var error = delivered ? null
                : status is >= 300 and < 400 ? "The receiver answered with a redirect; redirects are not followed."
                : $"The receiver answered {status}.";
            return new WebhookAttemptResult(status, delivered, error, Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttemptResult(null, false, $"No answer within {_options.AttemptTimeout.TotalSeconds:0} s.", Stopwatch.GetElapsedTime(started));
        }
        catch (HttpRequestException e)
        {
            return new WebhookAttemptResult(null, false, e.Message, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// The body: the event type, when it happened, and the quest as it was then (an ending carries the images with
    /// signed links, valid for the usual link lifetime). Built once, at the first attempt.
    /// </summary>
    private async Task<string?> BuildPayloadAsync(IServiceProvider services, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var quest = await services.GetRequiredService<ImageGenDbContext>().FindWithImagesAsync(delivery.QuestId, delivery.UserId, cancellationToken);
        if (quest is null)
        {
            return null;
        }

        var dto = quest.ToDto(services.GetRequiredService<ImageUrlSigner>());
        if (!delivery.QuestStatus.IsTerminal())
        {
            dto = dto with
            {
                Status = delivery.QuestStatus, Progress = delivery.Progress, Images = [], Error = null, CompletedAt = null, GenerationMilliseconds = null,
                StatusText = QuestStatusTexts.For(delivery.QuestStatus),
            };
        }

        return JsonSerializer.Serialize(new WebhookPayload(delivery.Type, delivery.CreatedAt, dto), json.Value.SerializerOptions);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Type} of quest {QuestId} delivered (attempt {Attempt}, {StatusCode})")]
    private static partial void LogDelivered(ILogger logger, string type, Guid questId, int attempt, int? statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Type} of quest {QuestId} not delivered (attempt {Attempt}, {StatusCode}): {Error}; given up: {GivenUp}")]
    private static partial void LogNotDelivered(ILogger logger, string type, Guid questId, int attempt, int? statusCode, string? error, bool givenUp);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A webhook pass failed; the deliveries wait for the next")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}

/// <summary>What a webhook receives: the event type, when it happened, and the quest.</summary>
public sealed record WebhookPayload(string Type, DateTimeOffset Timestamp, QuestDto Data);
