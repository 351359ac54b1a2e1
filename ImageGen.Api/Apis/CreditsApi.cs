using System.Globalization;
using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Core.Accounts;
using ImageGen.Data;
using ImageGen.Data.Credits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ImageGen.Api.Limits;

namespace ImageGen.Api.Apis;

internal static class CreditsApi
{
    public static IEndpointRouteBuilder MapCreditsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/credits", GetCredits).RequireRateLimiting(LimitPolicies.Read).WithTags("Credits").WithName("GetCredits")
            .WithSummary("Your balance, what is reserved for running quests, and your ledger, newest first.")
            .RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.CreditsRead));
        return app;
    }

    public static async Task<Results<Ok<CreditsDto>, ProblemHttpResult>> GetCredits(
        ClaimsPrincipal principal, ImageGenDbContext db, [AsParameters] PageRequest page, CancellationToken cancellationToken)
    {
        if (page.Size(PageLimits.Ledger, out var size) is { } badSize)
        {
            return badSize;
        }

        long? before = null;
        if (page.Cursor is { } cursor)
        {
            if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return PageRequest.BadCursor();
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
