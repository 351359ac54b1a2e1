using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using ImageGen.Api.Auth;
using ImageGen.Api.Limits;
using ImageGen.Api.Problems;
using ImageGen.Api.Services;
using ImageGen.Core.Accounts;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Api.Images;
using ImageGen.Data;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ImageGen.Api.Apis;

/// <summary>Settings of the OpenAI-compatible surface, bound from <c>OpenAi</c>.</summary>
public sealed class OpenAiCompatOptions
{
    public const string Section = "OpenAi";

    /// <summary>The longest a generation call waits for its quest (the quest deadline is 2 minutes from its start).</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(150);

    /// <summary>How long the same credential and body return the same quest (OpenAI clients retry and send no key).</summary>
    public TimeSpan ReplayWindow { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// OpenAI's Images API under <c>/v1</c>, so OpenAI SDKs and scripts work with only the base URL and key changed. Every
/// call is a quest like any other (same validation, reservation, limits, timeline, gallery); the call waits for it.
/// Errors use OpenAI's envelope (see <c>OpenAiErrorWriter</c>).
/// </summary>
internal static partial class OpenAiApi
{
    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("OpenAI-compatible").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Quests));
        group.MapPost("/images/generations", Generate).RequireRateLimiting(LimitPolicies.Submit).WithName("OpenAiGenerateImages")
            .WithSummary("OpenAI's image generation call: makes the images as a quest and answers when it ends.");
        group.MapPost("/images/edits", Edit).RequireRateLimiting(LimitPolicies.Submit).DisableAntiforgery().WithName("OpenAiEditImages")
            .WithSummary("OpenAI's image edit call (multipart: image or image[], optional mask): edits as a quest and answers when it ends.");
        group.MapGet("/models", ListModels).RequireRateLimiting(LimitPolicies.Read).WithName("OpenAiListModels").WithSummary("The catalog's models, as OpenAI lists models.");
        return app;
    }

    public static Ok<OpenAiModelList> ListModels(ModelCatalog catalog) =>
        TypedResults.Ok(new OpenAiModelList("list",
            [.. catalog.All.Where(m => m.Available).Select(m => new OpenAiModel(m.Id, "model", 0, OwnerOf(m.Provider)))]));

    /// <summary>The most partial images a streamed call may ask for (OpenAI's limit).</summary>
    public const int MaxPartialImages = 3;

    public static async Task<Results<Ok<OpenAiImagesResponse>, ServerSentEventsResult<OpenAiImageStreamEvent>, ProblemHttpResult>> Generate(
        OpenAiImageRequest request, HttpContext context, [AsParameters] OpenAiServices services, CancellationToken cancellationToken) =>
        Refusal(request) is { } refused ? refused : await RunAsync(new OpenAiCall(request, null, Fingerprint(request, [])), context, services, cancellationToken);

    /// <summary>What running a call as a quest uses.</summary>
    internal sealed record OpenAiServices(
        ImageGenDbContext Db, ImageUrlSigner Signer, QuestSubmission Submission, QuestWaiters Waiters, IImageStore Store, TimeProvider Time,
        IOptions<OpenAiCompatOptions> Options, ModelCatalog Catalog);

    /// <summary>An edit's inputs as kept uploads: the images (first the one edited) and the mask.</summary>
    internal sealed record EditInputs(IReadOnlyList<Guid> Images, Guid? Mask);

    /// <summary>One call: the request in OpenAI's terms, an edit's kept inputs, and the fingerprint of everything it sent.</summary>
    private sealed record OpenAiCall(OpenAiImageRequest Request, EditInputs? Edit, string Fingerprint);

    /// <summary>
    /// The call as a quest, for generations and edits alike: translated into the native request, submitted through the
    /// one pipeline once per credential and body within the replay window, then waited for (or streamed).
    /// </summary>
    private static async Task<Results<Ok<OpenAiImagesResponse>, ServerSentEventsResult<OpenAiImageStreamEvent>, ProblemHttpResult>> RunAsync(
        OpenAiCall call, HttpContext context, OpenAiServices services, CancellationToken cancellationToken)
    {
        var (request, edit) = (call.Request, call.Edit);
        var native = ToQuestRequest(request, services.Catalog, out var sizeError) with { Images = edit?.Images, Mask = edit?.Mask };
        if (sizeError is not null)
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "size", sizeError);
        }

        if (IdempotencyHeader.Read(context, out var idempotencyKey) is { } badKey)
        {
            return badKey;
        }

        var userId = context.User.UserId();
        var order = new QuestOrder(userId, native, Idempotency(idempotencyKey, context.User, call.Fingerprint, services.Options.Value),
            WebhookEventsField: "webhook_events", ApiKeyId: context.User.ApiKeyId());
        Guid questId;
        switch (await services.Submission.SubmitAsync(order, cancellationToken))
        {
            case SubmitOutcome.Invalid([var first, ..]):
                return ApiProblems.BadRequest(first.Code, OpenAiName(first.Field), first.Message);
            case SubmitOutcome.Accepted accepted:
                questId = accepted.Quest.Id;
                break;
            case SubmitOutcome.Replayed replayed:
                questId = replayed.QuestId;
                context.Response.Headers["Idempotent-Replayed"] = "true";
                break;
            case SubmitOutcome.KeyReused:
                return ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.IdempotencyKeyReused,
                    "This Idempotency-Key was used for a different request. Use a new key for a new generation.", "Idempotency-Key");
            case SubmitOutcome.ShortOf(var balance, var cost):
                // OpenAI answers a spent quota with 429 insufficient_quota; its SDKs do not retry it.
                return ApiProblems.Status(StatusCodes.Status429TooManyRequests, ErrorCodes.InsufficientCredits,
                    $"This generation costs {cost} credits and your balance is {balance}. Add credits and try again.");
            case SubmitOutcome.KeyCapReached(var spent, var cap, var cost):
                return ApiProblems.Status(StatusCodes.Status429TooManyRequests, ErrorCodes.KeySpendCapReached,
                    $"This key may spend {cap} credits a month; {spent} are spent and this generation costs {cost}.");
            default:
                throw new InvalidOperationException("Unknown submit outcome.");
        }

        context.Response.Headers["X-ImageGen-Quest-Id"] = questId.ToString();
        if (request.Stream is true)
        {
            return TypedResults.ServerSentEvents(StreamAsync(questId, userId, request, edit is null ? "image_generation" : "image_edit",
                context, services, cancellationToken));
        }

        return await AnswerWhenEndedAsync(questId, request, context, services, cancellationToken);
    }

    /// <summary>Waits for the quest (at most <see cref="OpenAiCompatOptions.MaxWait"/>) and answers as OpenAI would.</summary>
    private static async Task<Results<Ok<OpenAiImagesResponse>, ServerSentEventsResult<OpenAiImageStreamEvent>, ProblemHttpResult>> AnswerWhenEndedAsync(
        Guid questId, OpenAiImageRequest request, HttpContext context, OpenAiServices services, CancellationToken cancellationToken)
    {
        var options = services.Options.Value;
        var quest = await services.Waiters.WaitForEndAsync(services.Db, questId, context.User.UserId(), options.MaxWait, cancellationToken)
            ?? throw new InvalidOperationException($"Quest {questId} vanished while its caller waited.");
        return quest.Status switch
        {
            QuestStatus.Succeeded => TypedResults.Ok(await AnswerAsync(quest, request, context, services, cancellationToken)),
            _ when !quest.Status.IsTerminal() => ApiProblems.Status(StatusCodes.Status504GatewayTimeout, "still_running",
                $"The generation is still running after {options.MaxWait.TotalSeconds:0} s. It goes on and lands in your gallery as quest {quest.Id}; "
                + $"the same request again within {options.ReplayWindow.TotalMinutes:0} minutes waits for it instead of starting another."),
            _ => Failure(quest),
        };
    }

    /// <summary>
    /// The caller's own Idempotency-Key, or one derived from the credential and the body that holds for the replay
    /// window: an SDK's retry after a timeout finds the quest its first try started.
    /// </summary>
    private static IdempotencyRequest Idempotency(string header, ClaimsPrincipal principal, string body, OpenAiCompatOptions options)
    {
        if (header.Length > 0)
        {
            return new IdempotencyRequest(header, body);
        }

        var credential = principal.FindFirstValue("api_key_id") ?? principal.FindFirstValue(SessionGuard.SessionClaim) ?? "";
        var derived = "v1:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(credential + "|" + body)));
        return new IdempotencyRequest(derived, body, options.ReplayWindow);
    }

    /// <summary>The fingerprint of a call: its fields, and the bytes of any files it sent (not the ids they were kept under).</summary>
    private static string Fingerprint(OpenAiImageRequest request, IEnumerable<byte[]> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(JsonSerializer.SerializeToUtf8Bytes(request));
        foreach (var file in files)
        {
            hash.AppendData(SHA256.HashData(file));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task<OpenAiImagesResponse> AnswerAsync(
        Quest quest, OpenAiImageRequest request, HttpContext context, OpenAiServices services, CancellationToken cancellationToken)
    {
        var data = new List<OpenAiImageData>();
        foreach (var image in quest.Images.OrderBy(i => i.Index))
        {
            if (request.ResponseFormat == "url")
            {
                var signed = services.Signer.Sign(new QuestImageDto(image.Id, "", image.Width, image.Height, image.ContentType, null, []));
                // An object store's link is already absolute; ours is a path on the public address.
                data.Add(new OpenAiImageData(null, Uri.IsWellFormedUriString(signed.Url, UriKind.Absolute) ? signed.Url : PublicOrigin(context) + signed.Url, null));
                continue;
            }

            await using var stream = await services.Store.OpenReadAsync(image.StorageKey, cancellationToken)
                ?? throw new InvalidOperationException($"Image {image.Id} of quest {quest.Id} is missing from the store.");
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            data.Add(new OpenAiImageData(Convert.ToBase64String(buffer.GetBuffer(), 0, (int)buffer.Length), null, null));
        }

        var first = quest.Images.OrderBy(i => i.Index).FirstOrDefault();
        return new OpenAiImagesResponse(
            (quest.CompletedAt ?? services.Time.GetUtcNow()).ToUnixTimeSeconds(),
            data,
            first is null ? null : first.ContentType["image/".Length..],
            first is null ? null : $"{first.Width}x{first.Height}",
            quest.Parameters.Quality,
            quest.Parameters.Background is "transparent" ? "transparent" : "opaque");
    }

    /// <summary>A failed quest as OpenAI would answer the same failure.</summary>
    private static ProblemHttpResult Failure(Quest quest)
    {
        var (status, code, message) = FailureOf(quest);
        return ApiProblems.Status(status, code, message, extra: new Dictionary<string, object?> { ["questId"] = quest.Id });
    }

    private static (int Status, string Code, string Message) FailureOf(Quest quest)
    {
        var code = quest.ErrorCode ?? ErrorCodes.ProviderError;
        var message = quest.ErrorMessage ?? "The generation failed.";
        var status = code switch
        {
            ErrorCodes.Moderated => StatusCodes.Status400BadRequest,
            ErrorCodes.Cancelled => StatusCodes.Status409Conflict,
            ErrorCodes.RateLimited => StatusCodes.Status429TooManyRequests,
            ErrorCodes.ProviderUnavailable => StatusCodes.Status503ServiceUnavailable,
            ErrorCodes.TimedOut or ErrorCodes.ProviderTimeout => StatusCodes.Status504GatewayTimeout,
            _ => StatusCodes.Status502BadGateway,
        };
        return (status, code, message);
    }

    /// <summary>The address callers reach us by: the gateway's, as it forwarded it.</summary>
    private static string PublicOrigin(HttpContext context)
    {
        var host = context.Request.Headers["X-Forwarded-Host"].ToString().Split(',')[0].Trim();
        var scheme = context.Request.Headers["X-Forwarded-Proto"].ToString().Split(',')[0].Trim();
        return $"{(scheme.Length > 0 ? scheme : context.Request.Scheme)}://{(host.Length > 0 ? host : context.Request.Host.Value)}";
    }

    private static string OwnerOf(ModelProvider provider) => provider switch
    {
        ModelProvider.OpenAI => "openai",
        ModelProvider.BlackForestLabs => "black-forest-labs",
        ModelProvider.Local => "imagegen",
        _ => provider.ToString().ToLowerInvariant(),
    };
}
