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
        app.MapGet("/api/credits/spend", GetSpend).RequireRateLimiting(LimitPolicies.Read).WithTags("Credits").WithName("GetSpend")
            .WithSummary("Where your credits went: charged credits by model, by API key (or session) and by month, for quests that ended in [from, to) (default: the last 12 months).")
            .RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.CreditsRead));
        return app;
    }

    /// <summary>The longest period one summary covers.</summary>
    private static readonly TimeSpan MaxSpendPeriod = TimeSpan.FromDays(3 * 366);

    public static async Task<Results<Ok<SpendDto>, ProblemHttpResult>> GetSpend(ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time,
        DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var end = to ?? time.GetUtcNow();
        var start = from ?? end.AddMonths(-12);
        if (start >= end || end - start > MaxSpendPeriod)
        {
            return Problems.ApiProblems.BadRequest(Core.Quests.ErrorCodes.ValueOutOfRange, from is null ? "to" : "from",
                "'from' must come before 'to', at most three years apart.");
        }

        var userId = principal.UserId();
        var rows = await db.Quests.AsNoTracking()
            .Where(q => q.UserId == userId && q.Charged > 0 && q.CompletedAt >= start && q.CompletedAt < end)
            .GroupBy(q => new { q.Model, q.ApiKeyId, q.CompletedAt!.Value.Year, q.CompletedAt!.Value.Month })
            .Select(g => new { g.Key.Model, g.Key.ApiKeyId, g.Key.Year, g.Key.Month, Credits = g.Sum(q => q.Charged!.Value), Quests = g.Count() })
            .ToListAsync(cancellationToken);
        var keyIds = rows.Where(r => r.ApiKeyId is not null).Select(r => r.ApiKeyId!.Value).Distinct().ToList();
        var names = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId && keyIds.Contains(k.Id)).ToDictionaryAsync(k => k.Id, k => k.Name, cancellationToken);
        return TypedResults.Ok(new SpendDto(start, end, rows.Sum(r => r.Credits),
            [.. rows.GroupBy(r => r.Model).Select(g => new SpendByModelDto(g.Key, g.Sum(r => r.Credits), g.Sum(r => r.Quests))).OrderByDescending(m => m.Credits)],
            [.. rows.GroupBy(r => r.ApiKeyId).Select(g => new SpendByKeyDto(g.Key, g.Key is { } id ? names.GetValueOrDefault(id, "deleted key") : "signed-in session",
                g.Sum(r => r.Credits), g.Sum(r => r.Quests))).OrderByDescending(k => k.Credits)],
            [.. rows.GroupBy(r => (r.Year, r.Month)).OrderBy(g => g.Key)
                .Select(g => new SpendByMonthDto($"{g.Key.Year:D4}-{g.Key.Month:D2}", g.Sum(r => r.Credits), g.Sum(r => r.Quests)))]));
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
