using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Images;
using ImageGen.Api.Problems;
using ImageGen.Api.Services;
using ImageGen.Data.Queue;
using ImageGen.Core.Accounts;
using ImageGen.Core.Catalog;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Credits;
using ImageGen.Data.Entities;
using ImageGen.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

internal static partial class QuestsApi
{

    private static readonly ActivitySource Source = new(ServiceDefaultsExtensions.TelemetryName);

    public static IEndpointRouteBuilder MapQuestsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/quests").WithTags("Quests").RequireAuthorization();
        group.MapPost("/", CreateQuest).WithName("CreateQuest").WithSummary("Submit a prompt; the quest is queued and generated in the background.");
        group.MapGet("/{id}", GetQuest).WithName("GetQuest").WithSummary("The latest state of one quest.");
        group.MapGet("/", ListQuests).WithName("ListQuests").WithSummary("Recent quests, newest first, paged by cursor.");
        group.MapPost("/{id}/cancel", CancelQuest).WithName("CancelQuest")
            .WithSummary("Cancel a quest: a queued one at once, a running one as soon as its worker can stop. Its credits go back.");
        return app;
    }

    public static async Task<Results<Accepted<QuestDto>, ProblemHttpResult>> CreateQuest(
        CreateQuestRequest request, ClaimsPrincipal principal, ImageGenDbContext db, QuestQueue queue, ImageUrlSigner signer,
        TimeProvider time, ImageGenMetrics metrics, ILoggerFactory loggers, HttpContext context, CancellationToken cancellationToken)
    {
        var errors = QuestValidator.Validate(request, out var valid);
        if (valid is null)
        {
            return ApiProblems.Validation(errors);
        }

        var idempotencyKey = context.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > ImageGenDbContext.IdempotencyKeyMaxLength || idempotencyKey.Any(char.IsControl))
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidIdempotencyKey, "Idempotency-Key",
                $"The Idempotency-Key header must be 1 to {ImageGenDbContext.IdempotencyKeyMaxLength} printable characters.");
        }

        // Only a keyed submit needs the fingerprint of its body.
        var requestHash = idempotencyKey.Length > 0
            ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(request)))
            : "";

        using var activity = Source.StartActivity("quest.submit", ActivityKind.Producer);
        var userId = principal.UserId();
        var cost = valid.Cost;
        var quest = new Quest
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            UserId = userId,
            Prompt = valid.Prompt,
            Model = valid.Model.Id,
            Width = valid.Width,
            Height = valid.Height,
            Seed = valid.Parameters.Seed,
            Parameters = valid.Parameters,
            Cost = cost,
            Status = QuestStatus.Queued,
            StatusText = "Waiting for a worker...",
            CreatedAt = time.GetUtcNow(),
            EnqueuedAt = time.GetUtcNow(),
            TraceParent = Activity.Current?.Id,
        };
        activity?.SetTag("quest.id", quest.Id);
        activity?.SetTag("quest.model", quest.Model);

        // The reservation and the quest commit together; the per-user lock makes parallel submits take turns, so the
        // balance is checked against every reservation made before.
        int? shortBalance = null;
        Guid? replayOf = null;
        var keyReused = false;
        await db.InAccountTransactionAsync(userId, async balance =>
        {
            (shortBalance, replayOf, keyReused) = (null, null, false);
            // Inside the account lock: a second request with the same key waits here, then finds the first.
            if (idempotencyKey.Length > 0
                && await db.IdempotencyKeys.AsNoTracking().FirstOrDefaultAsync(k => k.UserId == userId && k.Key == idempotencyKey, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                keyReused = existing.RequestHash != requestHash;
                replayOf = existing.QuestId;
                return false;
            }

            shortBalance = balance < cost ? balance : null;
            if (shortBalance is not null)
            {
                return false;
            }

            db.Quests.Add(quest);
            db.CreditEntries.Add(CreditLedger.Entry(userId, CreditEntryKind.Reserve, -cost, quest.CreatedAt, quest.Id));
            if (idempotencyKey.Length > 0)
            {
                db.IdempotencyKeys.Add(new IdempotencyKey { UserId = userId, Key = idempotencyKey, RequestHash = requestHash, QuestId = quest.Id, CreatedAt = quest.CreatedAt });
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);

        if (keyReused)
        {
            return ApiProblems.Status(StatusCodes.Status422UnprocessableEntity, ErrorCodes.IdempotencyKeyReused,
                "This Idempotency-Key was used for a different request. Use a new key for a new quest.", "Idempotency-Key");
        }

        if (replayOf is { } originalId)
        {
            // The same request again: the original quest, no second charge.
            var original = (await db.FindWithImagesAsync(originalId, userId, cancellationToken).ConfigureAwait(false))!;
            context.Response.Headers["Idempotent-Replayed"] = "true";
            return TypedResults.Accepted($"/api/quests/{original.Id}", original.ToDto(signer));
        }

        if (shortBalance is { } have)
        {
            return ApiProblems.Status(StatusCodes.Status402PaymentRequired, ErrorCodes.InsufficientCredits,
                $"This quest costs {cost} credits and your balance is {have}.", extra: new Dictionary<string, object?> { ["balance"] = have, ["cost"] = cost });
        }

        await queue.EnqueueAsync(quest.Id).ConfigureAwait(false);
        metrics.QuestSubmitted(quest.Model, ModelCatalog.ProviderTag(quest.Model), cost);
        LogQueued(loggers.CreateLogger(typeof(QuestsApi).FullName!), quest.Id, userId, quest.Model, cost);
        return TypedResults.Accepted($"/api/quests/{quest.Id}", quest.ToDto(signer));
    }

    public static async Task<Results<Ok<QuestDto>, Accepted<QuestDto>, ProblemHttpResult>> CancelQuest(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, QuestQueue queue, QuestEventPublisher events, ImageUrlSigner signer,
        TimeProvider time, ImageGenMetrics metrics, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var quest = Guid.TryParse(id, out var questId)
            ? await db.Quests.AsNoTracking().FirstOrDefaultAsync(q => q.Id == questId && q.UserId == userId, cancellationToken).ConfigureAwait(false)
            : null;
        if (quest is null)
        {
            return ApiProblems.NotFound(ErrorCodes.QuestNotFound, $"There is no quest '{id}'.");
        }

        var now = time.GetUtcNow();
        var cancelled = false;
        if (quest.Status == QuestStatus.Queued)
        {
            // Only if it is still queued at this instant: a worker that claims it first wins, and is told below.
            await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                cancelled = await db.Quests.Where(q => q.Id == questId && q.Status == QuestStatus.Queued).ExecuteUpdateAsync(s => s
                    .SetProperty(q => q.Status, QuestStatus.Cancelled)
                    .SetProperty(q => q.StatusText, "Cancelled.")
                    .SetProperty(q => q.ErrorCode, ErrorCodes.Cancelled)
                    .SetProperty(q => q.ErrorMessage, "You cancelled this quest before it started. Nothing was charged.")
                    .SetProperty(q => q.CompletedAt, now), cancellationToken).ConfigureAwait(false) == 1;
                if (cancelled)
                {
                    db.CreditEntries.Add(CreditLedger.Entry(userId, CreditEntryKind.Release, quest.Cost, now, questId, ErrorCodes.Cancelled));
                    db.QuestSteps.Add(new QuestStep { QuestId = questId, At = now, Kind = QuestStepKinds.Ended, Run = quest.Attempts, Code = ErrorCodes.Cancelled, Detail = "Cancelled while queued" });
                    await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }

        if (!cancelled)
        {
            var running = await db.Quests.Where(q => q.Id == questId && q.Status == QuestStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(q => q.CancelRequested, true), cancellationToken).ConfigureAwait(false) == 1;
            if (!running)
            {
                var finished = await db.Quests.AsNoTracking().FirstAsync(q => q.Id == questId, cancellationToken).ConfigureAwait(false);
                return ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.QuestFinished,
                    $"The quest already ended as {finished.Status}; there is nothing to cancel.", extra: new Dictionary<string, object?> { ["questStatus"] = finished.Status.ToString() });
            }

            // The worker running it stops cooperatively, releases the credits and publishes Cancelled.
            await queue.RequestCancelAsync(questId).ConfigureAwait(false);
            var stillRunning = (await db.FindWithImagesAsync(questId, userId, cancellationToken).ConfigureAwait(false))!;
            return TypedResults.Accepted($"/api/quests/{questId}", stillRunning.ToDto(signer));
        }

        metrics.QuestEnded(quest.Model, ModelCatalog.ProviderTag(quest.Model), "cancelled", ErrorCodes.Cancelled, null);
        metrics.Credits("released", quest.Cost);
        var result = (await db.FindWithImagesAsync(questId, userId, cancellationToken).ConfigureAwait(false))!;
        var dto = result.ToDto(signer);
        await events.PublishAsync(new QuestEvent
        {
            QuestId = questId,
            UserId = userId,
            Sequence = long.MaxValue,
            Status = QuestStatus.Cancelled,
            StatusText = result.StatusText,
            Progress = result.Progress,
            Error = new QuestErrorDto(ErrorCodes.Cancelled, result.ErrorMessage ?? ""),
            PublishedAt = now,
            Quest = dto,
        }).ConfigureAwait(false);
        return TypedResults.Ok(dto);
    }

    public static async Task<Results<Ok<QuestDto>, ProblemHttpResult>> GetQuest(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, ImageUrlSigner signer, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        // Another user's quest answers exactly as a missing one does.
        var quest = Guid.TryParse(id, out var questId) ? await db.FindWithImagesAsync(questId, userId, cancellationToken).ConfigureAwait(false) : null;
        return quest is null
            ? ApiProblems.NotFound(ErrorCodes.QuestNotFound, $"There is no quest '{id}'.")
            : TypedResults.Ok(quest.ToDto(signer));
    }

    public static async Task<Results<Ok<QuestPage>, ProblemHttpResult>> ListQuests(
        ClaimsPrincipal principal, ImageGenDbContext db, ImageUrlSigner signer, CancellationToken cancellationToken, int? limit = null, string? cursor = null)
    {
        if (KeysetCursor.Read(limit, cursor, out var size, out var after) is { } problem)
        {
            return problem;
        }

        var userId = principal.UserId();
        var query = db.Quests.AsNoTracking().Include(q => q.Images).Where(q => q.UserId == userId);
        if (after is var (createdAt, lastId))
        {
            // A row-value comparison, (created_at, id) < (@createdAt, @id), served by the descending index.
            query = query.Where(q => EF.Functions.LessThan(ValueTuple.Create(q.CreatedAt, q.Id), ValueTuple.Create(createdAt, lastId)));
        }

        var items = await query
            .OrderByDescending(q => q.CreatedAt).ThenByDescending(q => q.Id)
            .Take(size + 1)
            .ToListAsync(cancellationToken).ConfigureAwait(false);

        string? next = null;
        if (items.Count > size)
        {
            items.RemoveAt(size);
            next = KeysetCursor.Encode(items[^1].CreatedAt, items[^1].Id);
        }

        return TypedResults.Ok(new QuestPage([.. items.Select(q => q.ToDto(signer))], next));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Quest {QuestId} of {UserId} queued on {Model}, {Cost} credits reserved")]
    private static partial void LogQueued(ILogger logger, Guid questId, Guid userId, string model, int cost);
}
