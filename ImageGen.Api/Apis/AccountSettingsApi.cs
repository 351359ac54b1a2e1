using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Limits;
using ImageGen.Api.Problems;
using ImageGen.Api.Services;
using ImageGen.Core.Accounts;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

/// <summary>The account's own settings for its quests: the default fallback models.</summary>
internal static class AccountSettingsApi
{
    public static IEndpointRouteBuilder MapAccountSettingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/account").WithTags("Accounts").RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Quests));
        group.MapGet("/fallbacks", GetFallbacks).RequireRateLimiting(LimitPolicies.Read).WithName("GetDefaultFallbacks")
            .WithSummary("The models a new image falls back to, in order, when its own is unavailable and the request names none.");
        group.MapPut("/fallbacks", SetFallbacks).RequireRateLimiting(LimitPolicies.Write).WithName("SetDefaultFallbacks")
            .WithSummary("Sets the default fallback models (up to 3, each a model of the catalog); an empty list turns them off.");
        return app;
    }

    public static async Task<Ok<FallbackSettingsDto>> GetFallbacks(ClaimsPrincipal principal, DefaultFallbacks defaults, CancellationToken cancellationToken) =>
        TypedResults.Ok(new FallbackSettingsDto(await defaults.ModelsAsync(principal.UserId(), cancellationToken)));

    public static async Task<Results<Ok<FallbackSettingsDto>, ProblemHttpResult>> SetFallbacks(
        FallbackSettingsDto? request, ClaimsPrincipal principal, ImageGenDbContext db, ModelCatalog catalog, DefaultFallbacks defaults, CancellationToken cancellationToken)
    {
        if (request?.Models is not { } models)
        {
            return ApiProblems.BadRequest(ErrorCodes.Required, "models", "Name the fallback models in 'models' (an empty list turns them off).");
        }

        if (models.Count > QuestValidator.MaxFallbacks)
        {
            return ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "models", $"At most {QuestValidator.MaxFallbacks} fallback models; {models.Count} were named.");
        }

        foreach (var model in models)
        {
            if (catalog.TryGetRetired(model ?? "", out var retired))
            {
                return ApiProblems.BadRequest(ErrorCodes.ModelRetired, "models", $"{retired.DisplayName} was shut down; use '{retired.Successor}' instead.");
            }

            if (model is null || !catalog.TryGet(model, out var known) || !known.Available)
            {
                return ApiProblems.BadRequest(ErrorCodes.UnknownModel, "models",
                    $"'{model}' is not an available model. Available: {string.Join(", ", catalog.All.Where(m => m.Available).Select(m => m.Id))}.");
            }
        }

        if (models.Distinct(StringComparer.Ordinal).Count() != models.Count)
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "models", "Each fallback model once.");
        }

        var userId = principal.UserId();
        List<string>? saved = models.Count == 0 ? null : [.. models];
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.DefaultFallbacks, saved), cancellationToken);
        defaults.Forget(userId);
        return TypedResults.Ok(new FallbackSettingsDto(saved ?? []));
    }
}
