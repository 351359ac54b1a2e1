using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using ImageGen.Api.Mail;
using ImageGen.Api.Webhooks;
using ImageGen.Core.Operations;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;

namespace ImageGen.Api.Operations;

/// <summary>
/// Tells the alert channels. The evaluator (or the "send a test" button) writes one pending row per message and
/// channel; every API instance takes due rows (each by one instance) and sends them: an email through the mail relay,
/// or a webhook with Slack-compatible JSON (<c>text</c>, plus the alert's fields), signed like quest webhooks and sent
/// through the same address guard. A failure is tried again after 5 s, 30 s, 2 min and 10 min, then given up; the
/// rows are the delivery log.
/// </summary>
internal sealed partial class AlertNotifier(
    IServiceScopeFactory scopes, IHttpClientFactory clients, MailOutbox mail, IOptions<MailOptions> mailOptions, IOptions<AlertOptions> options,
    TimeProvider time, ILogger<AlertNotifier> logger) : BackgroundService
{
    private static readonly TimeSpan[] Retries = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10)];

    /// <summary>How long a taken row is held before another instance may take it again (its sender died).</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromMinutes(2);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Looks for pending messages now rather than at the next interval.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>
    /// After an evaluation: for each alert key, whether it fires now and what it says; a message per channel is queued
    /// for what <see cref="AlertGrouping"/> says is worth telling.
    /// </summary>
    public async Task QueueAsync(ImageGenDbContext db, IReadOnlyDictionary<string, (bool Firing, string Message)> states, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var channels = await db.AlertChannels.AsNoTracking().Select(c => c.Id).ToListAsync(cancellationToken);
        if (channels.Count == 0 || states.Count == 0)
        {
            return;
        }

        var keys = states.Keys.ToList();
        // A day of history is enough to group by; an alert firing for longer is told again once a day.
        var since = now.AddDays(-1);
        var told = await db.AlertDeliveries.AsNoTracking().Where(d => keys.Contains(d.AlertKey) && d.CreatedAt >= since)
            .Select(d => new { d.AlertKey, d.Event, d.CreatedAt }).ToListAsync(cancellationToken);
        var queued = 0;
        foreach (var (key, state) in states)
        {
            var history = told.Where(t => t.AlertKey == key).OrderBy(t => t.CreatedAt).ToList();
            var decision = AlertGrouping.Decide(state.Firing,
                new AlertGrouping.History(history.LastOrDefault()?.Event, history.LastOrDefault(t => t.Event == AlertEvents.Fired)?.CreatedAt), now);
            if (decision is null)
            {
                continue;
            }

            var message = decision == AlertEvents.Resolved ? $"Resolved: {state.Message}" : state.Message;
            foreach (var channel in channels)
            {
                db.AlertDeliveries.Add(Pending(channel, key, decision, message, now));
                queued++;
            }
        }

        if (queued > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            Wake();
        }
    }

    /// <summary>A message waiting to go to one channel.</summary>
    public static AlertDelivery Pending(Guid channel, string key, string evt, string message, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(),
        ChannelId = channel,
        AlertKey = key,
        Event = evt,
        Message = message.Length > 1000 ? message[..1000] : message,
        Status = AlertDeliveryStatus.Pending,
        NextAttemptAt = now,
        CreatedAt = now,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SendDueAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Postgres away: the rows wait.
                LogPassFailed(logger, e);
            }

            using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            idle.CancelAfter(options.Value.Interval);
            try
            {
                await _wake.Reader.ReadAsync(idle.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private async Task SendDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImageGenDbContext>();
        var now = time.GetUtcNow();
        var until = now + Hold;
        var due = await db.AlertDeliveries.FromSql($"""
            UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = {until}
            WHERE id IN (SELECT id FROM alert_deliveries WHERE status = {AlertDeliveryStatus.Pending} AND next_attempt_at <= {now}
                ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED)
            RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return;
        }

        var ids = due.Select(d => d.ChannelId).Distinct().ToList();
        var channels = await db.AlertChannels.AsNoTracking().Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, cancellationToken);
        foreach (var delivery in due)
        {
            string? error = null;
            try
            {
                await SendAsync(channels[delivery.ChannelId], delivery, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                error = e.Message.Length > 500 ? e.Message[..500] : e.Message;
            }

            var done = time.GetUtcNow();
            var gaveUp = error is not null && delivery.Attempts > Retries.Length;
            var status = error is null ? AlertDeliveryStatus.Sent : gaveUp ? AlertDeliveryStatus.Failed : AlertDeliveryStatus.Pending;
            var next = error is null || gaveUp ? done : done + Retries[delivery.Attempts - 1];
            await db.AlertDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, status)
                .SetProperty(d => d.LastError, error)
                .SetProperty(d => d.NextAttemptAt, next)
                .SetProperty(d => d.SentAt, error is null ? done : null), cancellationToken);
            if (error is not null)
            {
                LogSendFailed(logger, delivery.AlertKey, channels[delivery.ChannelId].Kind, delivery.Attempts, error);
            }
        }
    }

    private async Task SendAsync(AlertChannel channel, AlertDelivery delivery, CancellationToken cancellationToken)
    {
        var subject = delivery.Event switch
        {
            AlertEvents.Fired => $"[ImageGen alert] {delivery.AlertKey} fired",
            AlertEvents.Resolved => $"[ImageGen alert] {delivery.AlertKey} resolved",
            _ => "[ImageGen alert] test message",
        };

        if (channel.Kind == AlertChannelKinds.Email)
        {
            var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = $"{delivery.Message}\n\nAt {delivery.CreatedAt:yyyy-MM-dd HH:mm:ss} UTC." } };
            message.From.Add(MailboxAddress.Parse(mailOptions.Value.From));
            message.To.Add(MailboxAddress.Parse(channel.Target));
            await mail.SendNowAsync(message, cancellationToken);
            return;
        }

        var body = JsonSerializer.Serialize(new
        {
            text = $"{subject}: {delivery.Message}",
            alert = new { key = delivery.AlertKey, @event = delivery.Event, message = delivery.Message, at = delivery.CreatedAt },
        }, Json);
        using var request = new HttpRequestMessage(HttpMethod.Post, channel.Target) { Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")) };
        foreach (var (name, value) in WebhookSignature.Headers(channel.Secret!, WebhookSignature.MessageId(delivery.Id), time.GetUtcNow(), body))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(10));
        using var response = await clients.CreateClient(WebhookDispatcher.HttpClientName).SendAsync(request, attempt.Token);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(string.Create(CultureInfo.InvariantCulture, $"The receiver answered {(int)response.StatusCode}."));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling an alert channel failed; trying again at the next interval")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert message for {AlertKey} to a {Kind} channel failed (attempt {Attempt}): {Reason}")]
    private static partial void LogSendFailed(ILogger logger, string alertKey, string kind, int attempt, string reason);
}
