using System.Threading.Channels;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace ImageGen.Api.Mail;

/// <summary>
/// Account mail on its way out: a request queues its message and answers at once (a slow relay never holds a sign-up,
/// and a reset for an unknown address takes as long as one for a known one), and this sends it over SMTP through
/// MailKit. Mail lost to a crash before it left is asked for again (the account page resends the verification; a reset
/// is asked for again).
/// </summary>
internal sealed partial class MailOutbox(IOptions<MailOptions> options, ILogger<MailOutbox> logger) : BackgroundService
{
    private const int Capacity = 1000;
    private static readonly TimeSpan[] Retries = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    private readonly Channel<MimeMessage> _queue = Channel.CreateBounded<MimeMessage>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Queues a message; false when the queue is full (the relay has been failing for a while).</summary>
    public bool Enqueue(MimeMessage message)
    {
        if (_queue.Writer.TryWrite(message))
        {
            return true;
        }

        LogQueueFull(logger, Capacity);
        return false;
    }

    /// <summary>Messages sent at once, each over a connection of its own: one slow or retried message does not hold the rest.</summary>
    private const int Senders = 4;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await CheckRelayAsync(stoppingToken);
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(async _ =>
        {
            await foreach (var message in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await SendWithRetriesAsync(message, stoppingToken);
            }
        }));
    }

    /// <summary>At start: one connection (and sign-in, with credentials) to the relay, so a wrong setting shows in the log at once.</summary>
    private async Task CheckRelayAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        try
        {
            using var smtp = await ConnectAsync(settings, cancellationToken);
            await smtp.DisconnectAsync(quit: true, cancellationToken);
            LogRelayAnswered(logger, settings.Host, settings.Port);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRelayUnreachable(logger, settings.Host, settings.Port, e.Message);
        }
    }

    /// <summary>Sends one message now, over a connection of its own; throws when the relay refuses it (the caller retries).</summary>
    public async Task SendNowAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        using var smtp = await ConnectAsync(options.Value, cancellationToken);
        await smtp.SendAsync(message, cancellationToken);
        await smtp.DisconnectAsync(quit: true, cancellationToken);
    }

    private async Task SendWithRetriesAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var smtp = await ConnectAsync(options.Value, cancellationToken);
                await smtp.SendAsync(message, cancellationToken);
                await smtp.DisconnectAsync(quit: true, cancellationToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < Retries.Length)
            {
                LogRetrying(logger, message.Subject ?? "", attempt + 1, e.Message);
                await Task.Delay(Retries[attempt], cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogGaveUp(logger, message.Subject ?? "", e.Message);
                return;
            }
        }
    }

    private static async Task<SmtpClient> ConnectAsync(MailOptions settings, CancellationToken cancellationToken)
    {
        var smtp = new SmtpClient { Timeout = settings.TimeoutSeconds * 1000 };
        try
        {
            await smtp.ConnectAsync(settings.Host, settings.Port, settings.Security, cancellationToken);
            if (!string.IsNullOrEmpty(settings.UserName))
            {
                await smtp.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
            }

            return smtp;
        }
        catch
        {
            smtp.Dispose();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mail relay {Host}:{Port} answered; account mail leaves through it")]
    private static partial void LogRelayAnswered(ILogger logger, string host, int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "Mail relay {Host}:{Port} cannot be reached ({Reason}): verification and password reset mail wait until it answers")]
    private static partial void LogRelayUnreachable(ILogger logger, string host, int port, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending '{Subject}' failed (attempt {Attempt}): {Reason}; trying again")]
    private static partial void LogRetrying(ILogger logger, string subject, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending '{Subject}' failed for good: {Reason}")]
    private static partial void LogGaveUp(ILogger logger, string subject, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The mail queue is full ({Capacity} messages): the relay has been failing; this message is dropped")]
    private static partial void LogQueueFull(ILogger logger, int capacity);
}
