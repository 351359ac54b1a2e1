using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using ImageGen.Api.Auth;
using ImageGen.Api.Images;
using ImageGen.Api.Limits;
using ImageGen.Api.Problems;
using ImageGen.Api.Services;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Quests;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

internal static class QuestsApi
{
    public static IEndpointRouteBuilder MapQuestsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/quests").WithTags("Quests").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Quests));
        group.MapPost("/", CreateQuest).RequireRateLimiting(LimitPolicies.Submit).WithName("CreateQuest").WithSummary("Submit a prompt; the quest is queued and generated in the background.");
        group.MapGet("/{id}", GetQuest).RequireRateLimiting(LimitPolicies.Read).WithName("GetQuest").WithSummary("The latest state of one quest.");
        group.MapGet("/", ListQuests).RequireRateLimiting(LimitPolicies.Read).WithName("ListQuests")
            .WithSummary("Recent quests, newest first, paged by cursor; narrowed by q (prompt words), model, status, from, to and favorite.");
        group.MapPost("/{id}/cancel", CancelQuest).RequireRateLimiting(LimitPolicies.Write).WithName("CancelQuest")
            .WithSummary("Cancel a quest: a queued one at once and free; a running one as soon as its worker can stop, charged what the provider bills once a provider has accepted the job.");
        return app;
    }

    /// <summary>What the quest handlers use, bundled.</summary>
    public sealed record QuestServices(ImageGenDbContext Db, ImageUrlSigner Signer, QuestSubmission Submission, QuestWaiters Waiters);

    /// <summary>The longest <c>Prefer: wait=N</c> honoured.</summary>
    public static readonly TimeSpan MaxPreferWait = TimeSpan.FromSeconds(60);

    public static async Task<Results<Ok<QuestDto>, Accepted<QuestDto>, ProblemHttpResult>> CreateQuest(
        CreateQuestRequest request, HttpContext context, [AsParameters] QuestServices services, CancellationToken cancellationToken)
    {
        if (IdempotencyHeader.Read(context, out var idempotencyKey) is { } badKey)
        {
            return badKey;
        }

        // Only a keyed submit needs the fingerprint of its body.
        var idempotency = idempotencyKey.Length > 0
            ? new IdempotencyRequest(idempotencyKey, Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request))))
            : null;
        var userId = context.User.UserId();
        switch (await services.Submission.SubmitAsync(new QuestOrder(userId, request, idempotency, ApiKeyId: context.User.ApiKeyId()), cancellationToken))
        {
            case SubmitOutcome.Invalid(var errors):
                return ApiProblems.Validation(errors);
            case SubmitOutcome.Accepted accepted:
                return await AnswerAsync(accepted.Quest, context, services, cancellationToken);
            case SubmitOutcome.Replayed replayed:
                // The same request again: the original quest, no second charge.
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return await AnswerAsync((await services.Db.FindWithImagesAsync(replayed.QuestId, userId, cancellationToken))!, context, services, cancellationToken);
            case SubmitOutcome.KeyReused:
                return ApiProblems.Status(StatusCodes.Status422UnprocessableEntity, ErrorCodes.IdempotencyKeyReused,
                    "This Idempotency-Key was used for a different request. Use a new key for a new quest.", "Idempotency-Key");
            case SubmitOutcome.ShortOf(var balance, var cost):
                return ApiProblems.Status(StatusCodes.Status402PaymentRequired, ErrorCodes.InsufficientCredits,
                    $"This quest costs {cost} credits and your balance is {balance}.", extra: new Dictionary<string, object?> { ["balance"] = balance, ["cost"] = cost });
            case SubmitOutcome.KeyCapReached(var spent, var cap, var cost):
                return ApiProblems.Status(StatusCodes.Status402PaymentRequired, ErrorCodes.KeySpendCapReached,
                    $"This key may spend {cap} credits a month; {spent} are spent and this quest costs {cost}. Raise the key's cap, or use another credential.",
                    extra: new Dictionary<string, object?> { ["spent"] = spent, ["cap"] = cap, ["cost"] = cost });
            case var other:
                throw new UnreachableException($"Unknown submit outcome {other}.");
        }
    }

    /// <summary>
    /// 202 with the quest as it stands, or with "Prefer: wait=N" (RFC 7240) 200 with the finished quest when it ends
    /// within N seconds (60 at most).
    /// </summary>
    private static async Task<Results<Ok<QuestDto>, Accepted<QuestDto>, ProblemHttpResult>> AnswerAsync(
        Data.Entities.Quest stored, HttpContext context, QuestServices services, CancellationToken cancellationToken)
    {
        var wait = PreferredWait(context);
        if (wait is not null)
        {
            context.Response.Headers["Preference-Applied"] = $"wait={(int)wait.Value.TotalSeconds}";
            if (await services.Waiters.WaitForEndAsync(services.Db, stored.Id, stored.UserId, wait.Value, cancellationToken) is { } now)
            {
                stored = now;
            }
        }

        // Without a wait asked for, the answer stays 202 (a replay of an ended quest included).
        var dto = stored.ToDto(services.Signer);
        return wait is not null && stored.Status.IsTerminal() ? TypedResults.Ok(dto) : TypedResults.Accepted($"/api/quests/{stored.Id}", dto);
    }

    /// <summary>The wait a <c>Prefer</c> header asks for (<c>wait=N</c>, capped at <see cref="MaxPreferWait"/>), or null.</summary>
    internal static TimeSpan? PreferredWait(HttpContext context)
    {
        foreach (var preference in context.Request.Headers["Prefer"].SelectMany(v => (v ?? "").Split(',')))
        {
            var (name, value) = preference.Split('=', 2) is [var n, var v] ? (n.Trim(), v.Trim().Trim('"')) : (preference.Trim(), "");
            if (name.Equals("wait", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
            {
                return TimeSpan.FromSeconds(Math.Min(seconds, MaxPreferWait.TotalSeconds));
            }
        }

        return null;
    }

    public static async Task<Results<Ok<QuestDto>, Accepted<QuestDto>, ProblemHttpResult>> CancelQuest(
        string id, ClaimsPrincipal principal, QuestCancellation cancellation, [AsParameters] QuestServices services, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var outcome = Guid.TryParse(id, out var questId)
            ? await cancellation.CancelAsync(questId, userId, cancellationToken)
            : new CancelOutcome.NotFound();
        switch (outcome)
        {
            case CancelOutcome.Cancelled(var quest):
                return TypedResults.Ok(quest.ToDto(services.Signer));
            case CancelOutcome.Requested:
                // The worker running it stops cooperatively, settles it and publishes Cancelled.
                var running = (await services.Db.FindWithImagesAsync(questId, userId, cancellationToken))!;
                return TypedResults.Accepted($"/api/quests/{questId}", running.ToDto(services.Signer));
            case CancelOutcome.AlreadyEnded(var status):
                return ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.QuestFinished,
                    $"The quest already ended as {status}; there is nothing to cancel.", extra: new Dictionary<string, object?> { ["questStatus"] = status.ToString() });
            default:
                return ApiProblems.NotFound(ErrorCodes.QuestNotFound, $"There is no quest '{id}'.");
        }
    }

    public static async Task<Results<Ok<QuestDto>, ProblemHttpResult>> GetQuest(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, QuestSnapshots snapshots, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        // Another user's quest answers exactly as a missing one does.
        var quest = Guid.TryParse(id, out var questId) ? await db.FindWithImagesAsync(questId, userId, cancellationToken) : null;
        return quest is null
            ? ApiProblems.NotFound(ErrorCodes.QuestNotFound, $"There is no quest '{id}'.")
            : TypedResults.Ok(await snapshots.ForAsync(quest, db, cancellationToken));
    }

    public static async Task<Results<Ok<QuestPage>, ProblemHttpResult>> ListQuests(
        ClaimsPrincipal principal, ImageGenDbContext db, ImageUrlSigner signer, [AsParameters] PageRequest page, [AsParameters] SearchFilter filter,
        CancellationToken cancellationToken)
    {
        if (KeysetCursor.Read(page, out var size, out var after) is { } problem)
        {
            return problem;
        }

        if (filter.Problem(out var status) is { } badFilter)
        {
            return badFilter;
        }

        var userId = principal.UserId();
        var query = filter.Apply(db.Quests.AsNoTracking().Include(q => q.Images).Where(q => q.UserId == userId), status);
        if (after is var (createdAt, lastId))
        {
            // A row-value comparison, (created_at, id) < (@createdAt, @id), served by the descending index.
            query = query.Where(q => EF.Functions.LessThan(ValueTuple.Create(q.CreatedAt, q.Id), ValueTuple.Create(createdAt, lastId)));
        }

        var items = await query
            .OrderByDescending(q => q.CreatedAt).ThenByDescending(q => q.Id)
            .Take(size + 1)
            .ToListAsync(cancellationToken);

        var next = KeysetCursor.NextPage(items, size, q => (q.CreatedAt, q.Id));

        return TypedResults.Ok(new QuestPage([.. items.Select(q => q.ToDto(signer))], next));
    }
}
