using System.Globalization;
using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Credits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

internal static class CreditsApi
{
    public static IEndpointRouteBuilder MapCreditsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/credits", GetCredits).WithTags("Credits").WithName("GetCredits")
            .WithSummary("Your balance, what is reserved for running quests, and your ledger, newest first.")
            .RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.CreditsRead));
        return app;
    }

    public static async Task<Results<Ok<CreditsDto>, ProblemHttpResult>> GetCredits(
        ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken, int? limit = null, string? cursor = null)
    {
        var size = limit ?? 50;
        if (size is < 1 or > 200)
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidPaging, "limit", "The limit must be between 1 and 200.");
        }

        long? before = null;
        if (cursor is not null)
        {
            if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return ApiProblems.BadRequest(ErrorCodes.InvalidPaging, "cursor", "The cursor is not one this API gave out.");
            }

            before = parsed;
        }

        var userId = principal.UserId();
        var entries = await db.CreditEntries.AsNoTracking()
            .Where(e => e.UserId == userId && (before == null || e.Id < before))
            .OrderByDescending(e => e.Id)
            .Take(size + 1)
            .Select(e => new CreditEntryDto(e.Id, e.Kind, e.Amount, e.QuestId, e.Reason, e.CreatedAt))
            .ToListAsync(cancellationToken);
        string? next = null;
        if (entries.Count > size)
        {
            entries.RemoveAt(size);
            next = entries[^1].Id.ToString(CultureInfo.InvariantCulture);
        }

        return TypedResults.Ok(new CreditsDto(
            await db.BalanceAsync(userId, cancellationToken),
            await db.ReservedAsync(userId, cancellationToken),
            entries, next));
    }
}
