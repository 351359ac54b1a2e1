using ImageGen.Core.Catalog;
using System.Text.RegularExpressions;
using ImageGen.Api.Auth;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Api.Images;
using ImageGen.Api.Operations;
using ImageGen.Core.Messaging;
using ImageGen.Core.Operations;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Quests;
using ImageGen.Api.Services;
using ImageGen.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;
using ImageGen.Api.Limits;

namespace ImageGen.Api.Apis;

internal static partial class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").WithTags("Admin").RequireAuthorization(AuthSchemes.AdminPolicy);
        admin.MapGet("/users", SearchUsers).RequireRateLimiting(LimitPolicies.Read).WithName("SearchUsers").WithSummary("Find accounts by email (contains), with balances.");
        admin.MapPost("/users/{id}/credits", AddCredits).RequireRateLimiting(LimitPolicies.Write).WithName("AddCredits").WithSummary("Grant credits, or adjust a balance either way, with a reason.");
        admin.MapGet("/quests/{id}/debug", DebugQuest).RequireRateLimiting(LimitPolicies.Read).WithName("DebugQuest")
            .WithSummary("One quest for operators: its owner, every step (runs, provider calls with status, duration, circuit and retry reason, the parameters as sent), its credit entries and its trace.");
        admin.MapGet("/stats", GetStats).RequireRateLimiting(LimitPolicies.Read).WithName("GetOperationsStats")
            .WithSummary("Success rate and generation time per model, errors by code, credit flow, quests over time and active alerts (?window=1h or 24h).");
        admin.MapGet("/users/{id}/quests", ListUserQuests).RequireRateLimiting(LimitPolicies.Read).WithName("ListUserQuests").WithSummary("One user's most recent quests.");
        admin.MapGet("/alerts", ListAlerts).RequireRateLimiting(LimitPolicies.Read).WithName("ListAlerts")
            .WithSummary("Alerts, active ones first, then the most recent that resolved (?active=true for only the active).");
        admin.MapGet("/dead-letters", ListDeadLetters).RequireRateLimiting(LimitPolicies.Read).WithName("ListDeadLetters").WithSummary("Stream entries the workers gave up on, newest first.");
        admin.MapPost("/dead-letters/{entryId}/redrive", Redrive).RequireRateLimiting(LimitPolicies.Write).WithName("RedriveDeadLetter")
            .WithSummary("Submit the dead-lettered quest again, as a new quest for the same owner (a new reservation), and drop the entry.");
        admin.MapGet("/live-updates", GetLiveUpdates).RequireRateLimiting(LimitPolicies.Read).WithName("GetLiveUpdates")
            .WithSummary("Whether live updates (the quest hub) are paused, and until when.");
        admin.MapPut("/live-updates", SetLiveUpdates).RequireRateLimiting(LimitPolicies.Write).WithName("SetLiveUpdates")
            .WithSummary("Pause live updates for some minutes (every hub connection closes, new ones are refused; pages poll instead), or resume them.");
        return app;
    }

    public static async Task<Ok<LiveUpdatesDto>> GetLiveUpdates(Hubs.LiveUpdatesPause pause)
    {
        var until = await pause.PausedUntilAsync();
        return TypedResults.Ok(new LiveUpdatesDto(until is not null, until));
    }

    public static async Task<Results<Ok<LiveUpdatesDto>, ProblemHttpResult>> SetLiveUpdates(SetLiveUpdatesRequest request, Hubs.LiveUpdatesPause pause)
    {
        if (request.Paused is not { } paused)
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "paused", "Say whether live updates are paused: true or false.");
        }

        if (!paused)
        {
            await pause.ResumeAsync();
            return TypedResults.Ok(new LiveUpdatesDto(false, null));
        }

        var minutes = request.Minutes ?? 10;
        if (minutes < 1 || minutes > Hubs.LiveUpdatesPause.MaxDuration.TotalMinutes)
        {
            return ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "minutes", $"A pause lasts 1 to {Hubs.LiveUpdatesPause.MaxDuration.TotalMinutes:0} minutes.");
        }

        return TypedResults.Ok(new LiveUpdatesDto(true, await pause.PauseAsync(TimeSpan.FromMinutes(minutes))));
    }

    public static async Task<Results<Ok<List<UserSummaryDto>>, ProblemHttpResult>> SearchUsers(
        ImageGenDbContext db, [AsParameters] PageRequest page, CancellationToken cancellationToken, string? email = null)
    {
        if (page.Size(PageLimits.Lists, out var size) is { } badSize)
        {
            return badSize;
        }

        var term = email?.Trim().ToUpperInvariant() ?? "";
        var users = await db.Users.AsNoTracking()
            .Where(u => term == "" || u.NormalizedEmail!.Contains(term))
            .OrderByDescending(u => u.CreatedAt)
            .Take(size)
            .Select(u => new
            {
                u.Id,
                u.Email,
                u.CreatedAt,
                Balance = db.CreditAccounts.Where(a => a.UserId == u.Id).Select(a => a.Balance).FirstOrDefault(),
                Roles = db.UserRoles.Where(ur => ur.UserId == u.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!).ToList(),
            })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(users.Select(u => new UserSummaryDto(u.Id, u.Email ?? "", u.Roles, u.Balance, u.CreatedAt)).ToList());
    }

    public static async Task<Results<Ok<QuestDebugDto>, ProblemHttpResult>> DebugQuest(
        string id, ImageGenDbContext db, ImageUrlSigner signer, IConfiguration configuration, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var questId))
        {
            return ApiProblems.NotFound(ErrorCodes.QuestNotFound, $"There is no quest '{id}'.");
        }

        var quest = await db.Quests.AsNoTracking().Include(q => q.Images).FirstOrDefaultAsync(q => q.Id == questId, cancellationToken);
        if (quest is null)
        {
            return ApiProblems.NotFound(ErrorCodes.QuestNotFound, $"There is no quest '{id}'.");
        }

        var owner = await db.Users.AsNoTracking().Where(u => u.Id == quest.UserId).Select(u => u.Email).FirstOrDefaultAsync(cancellationToken);
        var steps = await db.QuestSteps.AsNoTracking().Where(s => s.QuestId == questId).OrderBy(s => s.Id).ToListAsync(cancellationToken);
        var credits = await db.CreditEntries.AsNoTracking().Where(e => e.QuestId == questId).OrderBy(e => e.Id)
            .Select(e => new CreditEntryDto(e.Id, e.Kind, e.Amount, e.QuestId, e.Reason, e.CreatedAt))
            .ToListAsync(cancellationToken);

        // traceparent: version-traceid-spanid-flags.
        var traceId = quest.TraceParent?.Split('-') is [_, var trace, _, _] ? trace : null;
        var dashboard = configuration["Dashboard:Url"]?.TrimEnd('/');
        return TypedResults.Ok(new QuestDebugDto
        {
            Quest = quest.ToDto(signer),
            OwnerId = quest.UserId,
            OwnerEmail = owner ?? "",
            Attempts = quest.Attempts,
            ProviderJobId = quest.ProviderJobId,
            Timeline = [.. steps.Select(s => new QuestStepDto(s.At, s.Kind, s.Run, s.Attempt, s.DurationMs, s.HttpStatus, s.Code, s.Detail, s.Circuit,
                s.Sent is null ? null : System.Text.Json.Nodes.JsonNode.Parse(s.Sent)))],
            Credits = credits,
            TraceId = traceId,
            TraceUrl = traceId is not null && !string.IsNullOrEmpty(dashboard) ? $"{dashboard}/traces/detail/{traceId}" : null,
        });
    }

    public static async Task<Results<Ok<OperationsStatsDto>, ProblemHttpResult>> GetStats(
        ImageGenDbContext db, ModelCatalog catalog, TimeProvider time, CancellationToken cancellationToken, string? window = null)
    {
        if (!OperationsStats.TryParseWindow(window, out var name, out var span))
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "window", "The window is 1h or 24h.");
        }

        return TypedResults.Ok(await OperationsStats.ComputeAsync(db, catalog, name, span, time.GetUtcNow(), cancellationToken));
    }

    public static async Task<Results<Ok<List<QuestDto>>, ProblemHttpResult>> ListUserQuests(
        string id, ImageGenDbContext db, ImageUrlSigner signer, [AsParameters] PageRequest page, CancellationToken cancellationToken)
    {
        if (page.Size(PageLimits.Lists, out var size) is { } badSize)
        {
            return badSize;
        }

        if (!Guid.TryParse(id, out var userId) || !await db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            return ApiProblems.NotFound(ErrorCodes.UserNotFound, $"There is no user '{id}'.");
        }

        var quests = await db.Quests.AsNoTracking().Include(q => q.Images).Where(q => q.UserId == userId)
            .OrderByDescending(q => q.CreatedAt).ThenByDescending(q => q.Id).Take(size)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(quests.Select(q => q.ToDto(signer)).ToList());
    }

    public static async Task<Ok<List<AlertDto>>> ListAlerts(ImageGenDbContext db, CancellationToken cancellationToken, bool active = false)
    {
        var alerts = await db.Alerts.AsNoTracking()
            .Where(a => !active || a.ResolvedAt == null)
            .OrderBy(a => a.ResolvedAt != null).ThenByDescending(a => a.FiredAt)
            .Take(100)
            .Select(AlertEvaluator.ToDto)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(alerts);
    }

    /// <param name="EntryId">The dead-letter entry (what re-drive takes).</param>
    /// <param name="OriginalEntryId">The quest stream entry that was given up on.</param>
    public sealed record DeadLetterDto(string EntryId, string OriginalEntryId, Guid? QuestId, string Reason, long Deliveries, DateTimeOffset DeadAt);

    public static async Task<Ok<List<DeadLetterDto>>> ListDeadLetters(IConnectionMultiplexer redis)
    {
        var entries = await redis.GetDatabase().StreamRangeAsync(QueueNames.DeadLetterStream, count: 200, messageOrder: Order.Descending);
        return TypedResults.Ok(entries.Select(ToDto).ToList());
    }

    /// <summary>What the operator's writing handlers use.</summary>
    public sealed record AdminServices(ImageGenDbContext Db, ImageUrlSigner Signer, TimeProvider Time);

    public static async Task<Results<Accepted<QuestDto>, ProblemHttpResult>> Redrive(
        string entryId, HttpContext context, IConnectionMultiplexer redis, QuestSubmission submission, [AsParameters] AdminServices services,
        CancellationToken cancellationToken)
    {
        var redisDb = redis.GetDatabase();
        var found = StreamEntryId().IsMatch(entryId) ? await redisDb.StreamRangeAsync(QueueNames.DeadLetterStream, entryId, entryId, 1) : [];
        if (found.Length == 0 || ToDto(found[0]) is not { QuestId: { } questId })
        {
            return ApiProblems.NotFound(ErrorCodes.DeadLetterNotFound, $"There is no dead-lettered quest '{entryId}'.");
        }

        var original = await services.Db.Quests.AsNoTracking().FirstOrDefaultAsync(q => q.Id == questId, cancellationToken);
        if (original is null)
        {
            return ApiProblems.NotFound(ErrorCodes.QuestNotFound, $"The dead-lettered quest '{questId}' no longer exists.");
        }

        var order = new QuestOrder(original.UserId, original.ToRequest(), Reason: $"Re-drive of {questId} by {context.User.UserId()}");
        switch (await submission.SubmitAsync(order, cancellationToken))
        {
            case SubmitOutcome.Invalid(var errors):
                return ApiProblems.Validation(errors);
            case SubmitOutcome.ShortOf(var balance, var cost):
                return ApiProblems.Status(StatusCodes.Status402PaymentRequired, ErrorCodes.InsufficientCredits,
                    $"The owner's balance is {balance}; the quest costs {cost}. Grant credits first.");
            case SubmitOutcome.Accepted accepted:
                await redisDb.StreamDeleteAsync(QueueNames.DeadLetterStream, [entryId]);
                return TypedResults.Accepted($"/api/quests/{accepted.Quest.Id}", accepted.Quest.ToDto(services.Signer));
            case var other:
                throw new System.Diagnostics.UnreachableException($"A re-drive has no idempotency key, so it cannot be {other}.");
        }
    }

    private static DeadLetterDto ToDto(StreamEntry entry) => new(
        entry.Id.ToString(),
        entry[QueueNames.Fields.EntryId].ToString(),
        Guid.TryParse(entry[QueueNames.Fields.QuestId].ToString(), out var questId) ? questId : null,
        entry[QueueNames.Fields.Reason].ToString(),
        (long)entry[QueueNames.Fields.Deliveries],
        DateTimeOffset.FromUnixTimeMilliseconds((long)entry[QueueNames.Fields.DeadAt]));

    public static async Task<Results<Ok<CreditEntryDto>, ProblemHttpResult>> AddCredits(
        string id, AdminCreditRequest request, HttpContext context, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (CheckCreditRequest(request) is { } invalid)
        {
            return invalid;
        }

        if (!Guid.TryParse(id, out var userId) || !await services.Db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            return ApiProblems.NotFound(ErrorCodes.UserNotFound, $"There is no user '{id}'.");
        }

        if (IdempotencyHeader.Read(context, out var idempotencyKey) is { } badKey)
        {
            return badKey;
        }

        var outcome = await services.Db.AdjustAsync(userId, request.Kind!.Value, request.Amount!.Value, request.Reason!.Trim(), context.User.UserId(),
            idempotencyKey.Length > 0 ? idempotencyKey : null, services.Time.GetUtcNow(), cancellationToken);
        switch (outcome)
        {
            case AdjustOutcome.Added(var entry):
                return TypedResults.Ok(new CreditEntryDto(entry.Id, entry.Kind, entry.Amount, null, entry.Reason, entry.CreatedAt));
            case AdjustOutcome.Replayed(var entry):
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Ok(new CreditEntryDto(entry.Id, entry.Kind, entry.Amount, null, entry.Reason, entry.CreatedAt));
            case AdjustOutcome.WouldBeNegative(var balance):
                return ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.BalanceWouldBeNegative,
                    $"The balance is {balance}; an adjustment of {request.Amount} would make it negative.", "amount",
                    new Dictionary<string, object?> { ["balance"] = balance });
            default:
                return ApiProblems.Status(StatusCodes.Status422UnprocessableEntity, ErrorCodes.IdempotencyKeyReused,
                    "This Idempotency-Key was used for a different entry. Use a new key for a new entry.", HttpRetryRules.IdempotencyHeader);
        }
    }

    /// <summary>The problem with a grant or adjustment as asked (kind, amount, reason), or null when it holds.</summary>
    private static ProblemHttpResult? CheckCreditRequest(AdminCreditRequest request)
    {
        if (request.Kind is not (CreditEntryKind.Grant or CreditEntryKind.Adjust))
        {
            return ApiProblems.BadRequest(request.Kind is null ? ErrorCodes.Required : ErrorCodes.ValidationFailed, "kind", "The kind is 'grant' or 'adjust'.");
        }

        if (request.Amount is not { } amount || amount == 0 || Math.Abs(amount) > CreditLimits.MaxAdminAmount
            || (request.Kind == CreditEntryKind.Grant && amount < 0))
        {
            return ApiProblems.BadRequest(request.Amount is null ? ErrorCodes.Required : ErrorCodes.AmountOutOfRange, "amount",
                $"A grant is 1 to {CreditLimits.MaxAdminAmount:N0} credits; an adjustment is a non-zero amount of at most {CreditLimits.MaxAdminAmount:N0} either way.");
        }

        var reason = request.Reason?.Trim();
        return string.IsNullOrEmpty(reason) || reason.Length > CreditLimits.MaxReasonLength
            ? ApiProblems.BadRequest(ErrorCodes.ReasonRequired, "reason", $"Say why (1 to {CreditLimits.MaxReasonLength} characters): the ledger keeps it.")
            : null;
    }

    [GeneratedRegex("^[0-9]{1,20}-[0-9]{1,20}$")]
    private static partial Regex StreamEntryId();
}

/// <summary>Whether live updates are paused (hub connections refused; pages poll), and until when.</summary>
public sealed record LiveUpdatesDto(bool Paused, DateTimeOffset? Until);

/// <summary>Pause live updates for <see cref="Minutes"/> (1-60, 10 by default), or resume them.</summary>
public sealed record SetLiveUpdatesRequest(bool? Paused, int? Minutes);

