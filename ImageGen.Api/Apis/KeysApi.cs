using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Api.Hubs;
using ImageGen.Api.Problems;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ImageGen.Api.Limits;

namespace ImageGen.Api.Apis;

internal static class KeysApi
{
    public const int MaxActiveKeys = 20;
    public const int MaxNameLength = 100;
    public const int MaxExpiryDays = 365;
    public const int MaxMonthlySpendCap = 1_000_000;

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/keys").WithTags("API keys").RequireAuthorization();
        keys.MapPost("/", Create).RequireRateLimiting(LimitPolicies.Write).RequireAuthorization(AuthSchemes.SessionPolicy).RequireRecentSignIn().WithName("CreateApiKey")
            .WithSummary("Create a personal API key with scopes and an optional expiry, from a signed-in session (never from another key). The key is shown in this answer only.");
        keys.MapGet("/", List).RequireRateLimiting(LimitPolicies.Read).RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Keys)).WithName("ListApiKeys")
            .WithSummary("Your active keys: prefix, scopes, expiry and last use, never the key.");
        keys.MapDelete("/{id}", Revoke).RequireRateLimiting(LimitPolicies.Write).RequireAuthorization(AuthSchemes.ScopePolicy(ApiKeyScopes.Keys)).WithName("RevokeApiKey")
            .WithSummary("Revoke a key; requests with it fail from now on, and its live connections close.");
        return app;
    }

    public static async Task<Results<Created<CreatedApiKeyDto>, ProblemHttpResult>> Create(
        CreateApiKeyRequest request, ClaimsPrincipal principal, ImageGenDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Check(request, principal, out var name, out var scopes) is { } invalid)
        {
            return invalid;
        }

        var userId = principal.UserId();
        if (await db.ApiKeys.CountAsync(k => k.UserId == userId && k.RevokedAt == null, cancellationToken) >= MaxActiveKeys)
        {
            return ApiProblems.Status(StatusCodes.Status409Conflict, ErrorCodes.TooManyApiKeys, $"You have {MaxActiveKeys} active keys; revoke one first.");
        }

        var secret = ApiKeyFormat.NewKey();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            UserId = userId,
            Name = name,
            Prefix = ApiKeyFormat.PrefixOf(secret),
            Hash = ApiKeyFormat.Hash(secret),
            CreatedAt = time.GetUtcNow(),
            Scopes = string.Join(' ', scopes),
            ExpiresAt = request.ExpiresInDays is { } days ? time.GetUtcNow().AddDays(days) : null,
            MonthlySpendCap = request.MonthlySpendCap,
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/keys/{key.Id}", new CreatedApiKeyDto(key.Id, key.Name, key.Prefix, secret, key.CreatedAt) { Scopes = scopes, ExpiresAt = key.ExpiresAt, MonthlySpendCap = key.MonthlySpendCap });
    }

    /// <summary>The request's name and scopes when they hold, or the problem: a name, known scopes (admin for operators only), an expiry and a cap in range.</summary>
    private static ProblemHttpResult? Check(CreateApiKeyRequest request, ClaimsPrincipal principal, out string name, out List<string> scopes)
    {
        name = request.Name?.Trim() ?? "";
        scopes = request.Scopes is { Count: > 0 } asked ? asked.Select(s => s?.Trim() ?? "").Distinct().ToList() : [.. ApiKeyScopes.Default];
        if (name.Length is 0 or > MaxNameLength)
        {
            return ApiProblems.BadRequest(name.Length == 0 ? ErrorCodes.Required : ErrorCodes.ValidationFailed, "name",
                $"Name the key (1 to {MaxNameLength} characters), so you know later where it is used.");
        }

        if (scopes.FirstOrDefault(s => !ApiKeyScopes.All.Contains(s)) is { } unknown)
        {
            return ApiProblems.BadRequest(ErrorCodes.UnknownScope, "scopes", $"'{unknown}' is not a scope. Scopes: {string.Join(", ", ApiKeyScopes.All)}.");
        }

        if (scopes.Contains(ApiKeyScopes.Admin) && !principal.IsInRole(Roles.Admin))
        {
            return ApiProblems.Status(StatusCodes.Status403Forbidden, ErrorCodes.ScopeNotAllowed, "Only an operator's key can have the admin scope.", "scopes");
        }

        if (request.ExpiresInDays is < 1 or > MaxExpiryDays)
        {
            return ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "expiresInDays", $"A key expires in 1 to {MaxExpiryDays} days, or never (leave it out).");
        }

        return request.MonthlySpendCap is < 1 or > MaxMonthlySpendCap
            ? ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "monthlySpendCap", $"A key's monthly cap is 1 to {MaxMonthlySpendCap:N0} credits, or none (leave it out).")
            : null;
    }

    public static async Task<Ok<List<ApiKeyDto>>> List(ClaimsPrincipal principal, ImageGenDbContext db, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var keys = await db.ApiKeys.AsNoTracking()
            .Where(k => k.UserId == userId && k.RevokedAt == null)
            .OrderByDescending(k => k.CreatedAt)
            .Select(k => new { k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt, k.Scopes, k.ExpiresAt, k.MonthlySpendCap })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(keys.Select(k => new ApiKeyDto(k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt)
        {
            Scopes = k.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            ExpiresAt = k.ExpiresAt,
            MonthlySpendCap = k.MonthlySpendCap,
        }).ToList());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Revoke(
        string id, ClaimsPrincipal principal, ImageGenDbContext db, HubSessions hubs, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var now = time.GetUtcNow();
        var revoked = Guid.TryParse(id, out var keyId)
            && await db.ApiKeys.Where(k => k.Id == keyId && k.UserId == userId && k.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken) == 1;
        if (!revoked)
        {
            return ApiProblems.NotFound(ErrorCodes.ApiKeyNotFound, $"You have no active API key '{id}'.");
        }

        // Connections opened with the key close too.
        await hubs.EndKeyAsync(keyId);
        return TypedResults.NoContent();
    }
}
