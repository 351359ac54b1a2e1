using System.Security.Claims;
using System.Text.Json;
using ImageGen.Api.Apis;
using ImageGen.Api.Auth;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ImageGen.Api.Limits;

namespace ImageGen.Api.Webhooks;

internal static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/webhooks").WithTags("Webhooks").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Webhooks));
        group.MapGet("/", Get).RequireRateLimiting(LimitPolicies.Read).WithName("GetWebhookSettings").WithSummary("The account's default webhook endpoint and event filter, and whether a signing secret exists.");
        group.MapPut("/", Update).RequireRateLimiting(LimitPolicies.Write).RequireRecentSignIn().WithName("UpdateWebhookSettings")
            .WithSummary("Set (or clear) the default endpoint for quests that name no webhook. The first time, a signing secret is made and shown in this answer only.");
        group.MapPost("/secret", Rotate).RequireRateLimiting(LimitPolicies.Write).RequireRecentSignIn().WithName("RotateWebhookSecret")
            .WithSummary("Make a new signing secret, shown in this answer only; the previous one signs beside it for a day.");
        group.MapGet("/deliveries", ListDeliveries).RequireRateLimiting(LimitPolicies.Read).WithName("ListWebhookDeliveries")
            .WithSummary("The delivery log, newest first: each event, its state and every attempt with the receiver's status. Filter with ?questId=.");
        group.MapPost("/deliveries/{id}/redeliver", Redeliver).RequireRateLimiting(LimitPolicies.Write).WithName("RedeliverWebhook")
            .WithSummary("Send a delivery again (the same webhook-id and body), e.g. after fixing the receiver; answers the delivery as queued.");
        return app;
    }

    public static async Task<Ok<WebhookSettingsDto>> Get(ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(ToDto(await db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.UserId == principal.UserId(), cancellationToken)));

    public static async Task<Results<Ok<WebhookSettingsDto>, Created<WebhookSettingsDto>, ProblemHttpResult>> Update(
        UpdateWebhookRequest request, ClaimsPrincipal principal, ImageGenDbContext db, WebhookAddressPolicy policy, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var url = string.IsNullOrWhiteSpace(request.Url) ? null : request.Url.Trim();
        if (url is not null && await policy.CheckAsync(url, "url", cancellationToken) is { } bad)
        {
            return ApiProblems.Validation([bad]);
        }

        if (!WebhookEventNames.TryParse(request.Events, out var events, out var unknown))
        {
            return ApiProblems.Validation([InvalidEvents("events", unknown)]);
        }

        var userId = principal.UserId();
        var now = time.GetUtcNow();
        var endpoint = await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.UserId == userId, cancellationToken);
        var created = endpoint is null;
        endpoint ??= db.WebhookEndpoints.Add(new WebhookEndpoint { UserId = userId, Secret = WebhookSignature.NewSecret() }).Entity;
        endpoint.Url = url;
        endpoint.Events = url is null ? WebhookEvents.None : events;
        endpoint.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return created
            ? TypedResults.Created("/api/webhooks", ToDto(endpoint) with { NewSecret = endpoint.Secret })
            : TypedResults.Ok(ToDto(endpoint));
    }

    public static async Task<Ok<WebhookSecretDto>> Rotate(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] RotateWebhookSecretRequest? confirmation, ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var now = time.GetUtcNow();
        var secret = WebhookSignature.NewSecret();
        var endpoint = await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.UserId == userId, cancellationToken);
        if (endpoint is null)
        {
            db.WebhookEndpoints.Add(new WebhookEndpoint { UserId = userId, Secret = secret, UpdatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            return TypedResults.Ok(new WebhookSecretDto(secret, null));
        }

        endpoint.PreviousSecret = endpoint.Secret;
        endpoint.Secret = secret;
        endpoint.RotatedAt = now;
        endpoint.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new WebhookSecretDto(secret, now + options.Value.SecretOverlap));
    }

    public static async Task<Results<Ok<WebhookDeliveryPage>, ProblemHttpResult>> ListDeliveries(
        ClaimsPrincipal principal, ImageGenDbContext db, [AsParameters] PageRequest page, Guid? questId, CancellationToken cancellationToken)
    {
        if (KeysetCursor.Read(page, out var size, out var after) is { } problem)
        {
            return problem;
        }

        var userId = principal.UserId();
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.UserId == userId);
        if (questId is { } quest)
        {
            query = query.Where(d => d.QuestId == quest);
        }

        if (after is var (createdAt, lastId))
        {
            query = query.Where(d => EF.Functions.LessThan(ValueTuple.Create(d.CreatedAt, d.Id), ValueTuple.Create(createdAt, lastId)));
        }

        var items = await query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Take(size + 1).ToListAsync(cancellationToken);
        var next = KeysetCursor.NextPage(items, size, d => (d.CreatedAt, d.Id));
        return TypedResults.Ok(new WebhookDeliveryPage([.. items.Select(ToDto)], next));
    }

    public static async Task<Results<Accepted<WebhookDeliveryDto>, ProblemHttpResult>> Redeliver(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var now = time.GetUtcNow();
        var deliveryId = ParseMessageId(id);
        // A delivery being sent right now is left to finish; a delivered or given-up one goes again from the start.
        var again = deliveryId is { } known
            ? await db.WebhookDeliveries.Where(d => d.Id == known && d.UserId == userId && d.State != WebhookDeliveryState.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, WebhookDeliveryState.Pending).SetProperty(d => d.Attempts, 0)
                    .SetProperty(d => d.NextAttemptAt, now).SetProperty(d => d.DeliveredAt, (DateTimeOffset?)null), cancellationToken)
            : 0;
        var delivery = deliveryId is { } found
            ? await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == found && d.UserId == userId, cancellationToken)
            : null;
        return delivery is null
            ? ApiProblems.NotFound(ErrorCodes.WebhookNotFound, $"You have no webhook delivery '{id}'.")
            : TypedResults.Accepted($"/api/webhooks/deliveries?questId={delivery.QuestId}", ToDto(delivery) with { State = again == 1 ? "pending" : ToDto(delivery).State });
    }

    internal static FieldError InvalidEvents(string field, string? unknown) => new(field, ErrorCodes.WebhookEventsInvalid,
        string.IsNullOrEmpty(unknown)
            ? $"Name at least one event: {string.Join(", ", WebhookEventNames.FilterNames)}."
            : $"'{unknown}' is not a webhook event. Events: {string.Join(", ", WebhookEventNames.FilterNames)}.");

    private static Guid? ParseMessageId(string id) =>
        Guid.TryParseExact(id.StartsWith("msg_", StringComparison.Ordinal) ? id[4..] : id, "N", out var guid) ? guid : null;

    private static WebhookSettingsDto ToDto(WebhookEndpoint? endpoint) => endpoint is null
        ? new WebhookSettingsDto(null, [], false, null, null)
        : new WebhookSettingsDto(endpoint.Url, WebhookEventNames.Names(endpoint.Events), true, endpoint.Secret[^4..], endpoint.RotatedAt);

    private static readonly JsonSerializerOptions LogJson = new(JsonSerializerDefaults.Web);

    private static WebhookDeliveryDto ToDto(WebhookDelivery d) => new(
        WebhookSignature.MessageId(d.Id), d.QuestId, d.Type, d.Url, d.State.ToString().ToLowerInvariant(), d.Attempts, d.CreatedAt,
        d.State == WebhookDeliveryState.Pending ? d.NextAttemptAt : null, d.DeliveredAt, d.LastStatusCode, d.LastError,
        JsonSerializer.Deserialize<List<WebhookAttemptDto>>(d.AttemptLog, LogJson) ?? []);
}
