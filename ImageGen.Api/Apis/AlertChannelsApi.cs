using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Limits;
using ImageGen.Api.Operations;
using ImageGen.Api.Problems;
using ImageGen.Api.Webhooks;
using ImageGen.Core.Operations;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ImageGen.Api.Apis;

/// <summary>
/// Where alerts are told (operators only): email addresses and webhooks, a test message to one, and the delivery log.
/// A webhook's URL passes the same address guard as quest webhooks, when it is set and again when each message is sent.
/// </summary>
internal static class AlertChannelsApi
{
    public static IEndpointRouteBuilder MapAlertChannelsApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(AuthSchemes.AdminPolicy);
        admin.MapGet("/alert-channels", List).RequireRateLimiting(LimitPolicies.Read).WithName("ListAlertChannels").WithSummary("Where alerts are sent.");
        admin.MapPost("/alert-channels", Create).RequireRateLimiting(LimitPolicies.Write).WithName("CreateAlertChannel")
            .WithSummary("Adds an email address or a webhook (Slack-compatible JSON, signed; the secret is shown once) that hears every alert fire and resolve.");
        admin.MapDelete("/alert-channels/{id}", Delete).RequireRateLimiting(LimitPolicies.Write).WithName("DeleteAlertChannel").WithSummary("Stops sending alerts to a channel.");
        admin.MapPost("/alert-channels/{id}/test", SendTest).RequireRateLimiting(LimitPolicies.Write).WithName("TestAlertChannel")
            .WithSummary("Sends a test message to one channel; its outcome shows in the delivery log.");
        admin.MapGet("/alert-deliveries", ListDeliveries).RequireRateLimiting(LimitPolicies.Read).WithName("ListAlertDeliveries")
            .WithSummary("The latest messages to alert channels (?limit=1..200), newest first, with their outcome.");
        return app;
    }

    public static async Task<Ok<List<AlertChannelDto>>> List(ImageGenDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.AlertChannels.AsNoTracking().OrderBy(c => c.CreatedAt)
            .Select(c => new AlertChannelDto(c.Id, c.Kind, c.Target, c.CreatedAt, null)).ToListAsync(cancellationToken));

    public static async Task<Results<Created<AlertChannelDto>, ProblemHttpResult>> Create(
        CreateAlertChannelRequest? request, ClaimsPrincipal principal, ImageGenDbContext db, WebhookAddressPolicy policy, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var target = request?.Target?.Trim();
        if (request?.Kind is not (AlertChannelKinds.Email or AlertChannelKinds.Webhook))
        {
            return ApiProblems.BadRequest(request?.Kind is null ? ErrorCodes.Required : ErrorCodes.InvalidValue, "kind", "A channel is 'email' or 'webhook'.");
        }

        if (string.IsNullOrEmpty(target))
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "target", request.Kind == AlertChannelKinds.Email ? "Give the email address to tell." : "Give the webhook's URL.");
        }

        if (request.Kind == AlertChannelKinds.Email && (target.Length > 254 || !MailboxAddress.TryParse(target, out var address) || address.Address != target || !target.Contains('@', StringComparison.Ordinal)))
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidEmail, "target", $"'{target}' is not an email address.");
        }

        if (request.Kind == AlertChannelKinds.Webhook && await policy.CheckAsync(target, "target", cancellationToken) is { } bad)
        {
            return ApiProblems.Validation([bad]);
        }

        if (await db.AlertChannels.CountAsync(cancellationToken) >= AlertChannel.MaxChannels)
        {
            return ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.InvalidValue, $"At most {AlertChannel.MaxChannels} alert channels; remove one first.");
        }

        var channel = new AlertChannel
        {
            Id = Guid.CreateVersion7(),
            Kind = request.Kind,
            Target = target,
            Secret = request.Kind == AlertChannelKinds.Webhook ? WebhookSignature.NewSecret() : null,
            CreatedAt = time.GetUtcNow(),
            CreatedBy = principal.UserId(),
        };
        db.AlertChannels.Add(channel);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/admin/alert-channels/{channel.Id}", new AlertChannelDto(channel.Id, channel.Kind, channel.Target, channel.CreatedAt, channel.Secret));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, ImageGenDbContext db, CancellationToken cancellationToken) =>
        Guid.TryParse(id, out var channelId) && await db.AlertChannels.Where(c => c.Id == channelId).ExecuteDeleteAsync(cancellationToken) > 0
            ? TypedResults.NoContent()
            : NoSuchChannel(id);

    public static async Task<Results<Accepted<AlertDeliveryDto>, ProblemHttpResult>> SendTest(
        string id, ImageGenDbContext db, AlertNotifier notifier, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var channelId) || !await db.AlertChannels.AnyAsync(c => c.Id == channelId, cancellationToken))
        {
            return NoSuchChannel(id);
        }

        var delivery = AlertNotifier.Pending(channelId, AlertEvents.Test, AlertEvents.Test,
            "A test message from ImageGen: alerts reach this channel when they fire and when they resolve.", time.GetUtcNow());
        db.AlertDeliveries.Add(delivery);
        await db.SaveChangesAsync(cancellationToken);
        notifier.Wake();
        return TypedResults.Accepted($"/api/admin/alert-deliveries", ToDto(delivery));
    }

    public static async Task<Results<Ok<List<AlertDeliveryDto>>, ProblemHttpResult>> ListDeliveries(ImageGenDbContext db, CancellationToken cancellationToken, int limit = 50)
    {
        if (limit is < 1 or > 200)
        {
            return ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "limit", "limit is 1 to 200.");
        }

        var rows = await db.AlertDeliveries.AsNoTracking().OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Take(limit).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(ToDto).ToList());
    }

    private static AlertDeliveryDto ToDto(AlertDelivery d) =>
        new(d.Id, d.ChannelId, d.AlertKey, d.Event, d.Message, d.Status, d.Attempts, d.LastError, d.CreatedAt, d.SentAt);

    private static ProblemHttpResult NoSuchChannel(string id) => ApiProblems.NotFound(ErrorCodes.NotFound, $"There is no alert channel '{id}'.");
}
