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
        app.MapGet("/api/credits/usage", GetUsage).RequireRateLimiting(LimitPolicies.Read).WithTags("Credits").WithName("GetUsage")
            .WithSummary("The same spend grouped one way: ?groupBy=model|key|day|month, for quests that ended in [from, to) (default: the last 12 months).")
            .RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.CreditsRead));
        return app;
    }

    /// <summary>The longest period one summary covers.</summary>
    private static readonly TimeSpan MaxSpendPeriod = TimeSpan.FromDays(3 * 366);

    public static async Task<Results<Ok<SpendDto>, ProblemHttpResult>> GetSpend(ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time,
        DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        if (Period(from, to, time, out var start, out var end) is { } problem)
        {
            return problem;
        }

        var spend = await SpendAsync(db, principal.UserId(), start, end, cancellationToken);
        return TypedResults.Ok(new SpendDto(start, end, spend.Total,
            [.. spend.ByModel.Select(r => new SpendByModelDto(r.Key, r.Credits, r.Quests))],
            [.. spend.ByKey.Select(r => new SpendByKeyDto(Guid.TryParse(r.Key, out var id) ? id : null, r.Label, r.Credits, r.Quests))],
            [.. spend.ByMonth.Select(r => new SpendByMonthDto(r.Key, r.Credits, r.Quests))],
            [.. spend.ByDay.Select(r => new SpendByMonthDto(r.Key, r.Credits, r.Quests))]));
    }

    /// <summary>The query of a usage report: the period and how to group it.</summary>
    public sealed record UsageQuery(DateTimeOffset? From = null, DateTimeOffset? To = null, string GroupBy = "model");

    public static async Task<Results<Ok<UsageDto>, ProblemHttpResult>> GetUsage(ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time,
        [AsParameters] UsageQuery query, CancellationToken cancellationToken)
    {
        var (from, to, groupBy) = (query.From, query.To, query.GroupBy);
        if (groupBy is not ("model" or "key" or "day" or "month"))
        {
            return Problems.ApiProblems.BadRequest(Core.Quests.ErrorCodes.InvalidValue, "groupBy", "Group by model, key, day or month.");
        }

        if (Period(from, to, time, out var start, out var end) is { } problem)
        {
            return problem;
        }

        var spend = await SpendAsync(db, principal.UserId(), start, end, cancellationToken);
        var rows = groupBy switch { "model" => spend.ByModel, "key" => spend.ByKey, "day" => spend.ByDay, _ => spend.ByMonth };
        return TypedResults.Ok(new UsageDto(start, end, groupBy, spend.Total, rows));
    }

    /// <summary>[from, to), by default the last 12 months; at most three years.</summary>
    private static ProblemHttpResult? Period(DateTimeOffset? from, DateTimeOffset? to, TimeProvider time, out DateTimeOffset start, out DateTimeOffset end)
    {
        end = to ?? time.GetUtcNow();
        start = from ?? end.AddMonths(-12);
        return start >= end || end - start > MaxSpendPeriod
            ? Problems.ApiProblems.BadRequest(Core.Quests.ErrorCodes.ValueOutOfRange, from is null ? "to" : "from", "'from' must come before 'to', at most three years apart.")
            : null;
    }

    private sealed record Spend(int Total, IReadOnlyList<UsageRowDto> ByModel, IReadOnlyList<UsageRowDto> ByKey, IReadOnlyList<UsageRowDto> ByMonth,
        IReadOnlyList<UsageRowDto> ByDay);

    /// <summary>
    /// The credits charged for the owner's quests that ended in [start, end), in one grouped query (charged is written in
    /// the same commit as the ledger's capture, so the sums match the balance history), then grouped each way.
    /// </summary>
    private static async Task<Spend> SpendAsync(ImageGenDbContext db, Guid userId, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var rows = await db.Quests.AsNoTracking()
            .Where(q => q.UserId == userId && q.Charged > 0 && q.CompletedAt >= start && q.CompletedAt < end)
            .GroupBy(q => new { q.Model, q.ApiKeyId, q.CompletedAt!.Value.Year, q.CompletedAt!.Value.Month, q.CompletedAt!.Value.Day })
            .Select(g => new { g.Key.Model, g.Key.ApiKeyId, g.Key.Year, g.Key.Month, g.Key.Day, Credits = g.Sum(q => q.Charged!.Value), Quests = g.Count() })
            .ToListAsync(cancellationToken);
        var keyIds = rows.Where(r => r.ApiKeyId is not null).Select(r => r.ApiKeyId!.Value).Distinct().ToList();
        var names = await db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId && keyIds.Contains(k.Id)).ToDictionaryAsync(k => k.Id, k => k.Name, cancellationToken);
        return new Spend(rows.Sum(r => r.Credits),
            [.. rows.GroupBy(r => r.Model).Select(g => new UsageRowDto(g.Key, g.Key, g.Sum(r => r.Credits), g.Sum(r => r.Quests))).OrderByDescending(r => r.Credits)],
            [.. rows.GroupBy(r => r.ApiKeyId).Select(g => new UsageRowDto(g.Key?.ToString() ?? "session",
                g.Key is { } id ? names.GetValueOrDefault(id, "deleted key") : "signed-in session", g.Sum(r => r.Credits), g.Sum(r => r.Quests))).OrderByDescending(r => r.Credits)],
            [.. rows.GroupBy(r => $"{r.Year:D4}-{r.Month:D2}").OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new UsageRowDto(g.Key, g.Key, g.Sum(r => r.Credits), g.Sum(r => r.Quests)))],
            [.. rows.GroupBy(r => $"{r.Year:D4}-{r.Month:D2}-{r.Day:D2}").OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new UsageRowDto(g.Key, g.Key, g.Sum(r => r.Credits), g.Sum(r => r.Quests)))]);
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
