using ImageGen.Api.Auth;
using ImageGen.Core.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace ImageGen.Tests.Unit;

/// <summary>
/// Each scope covers exactly what its name says: the endpoint table is walked, and every endpoint's credential rule
/// (anonymous, a session only, an operator, or a scope) must be the one its resource calls for. A new endpoint with no
/// rule, or under a resource this table does not know, fails the test until someone decides.
/// </summary>
public sealed class ScopeTests
{
    [Fact]
    public void Every_endpoint_asks_for_the_scope_its_resource_names()
    {
        var wrong = ApiEndpointTable.Endpoints
            .Select(e => (Route: Describe(e), Actual: RuleOf(e), Expected: Expected(e)))
            .Where(e => e.Actual != e.Expected)
            .Select(e => $"{e.Route}: {e.Actual}, expected {e.Expected ?? "a decision (unknown resource)"}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void The_check_refuses_an_endpoint_that_asks_for_no_credential_rule()
    {
        var bare = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/api/quests/{id}/new-thing"), 0, EndpointMetadataCollection.Empty, "new thing");
        Assert.Equal("anonymous", RuleOf(bare));
        Assert.NotEqual(Expected(bare), RuleOf(bare));
        var unknown = new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse("/api/brand-new"), 0,
            new EndpointMetadataCollection(new AuthorizeAttribute()), "brand new");
        Assert.Null(Expected(unknown));
    }

    /// <summary>What the endpoint's metadata asks of a caller.</summary>
    private static string RuleOf(Endpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return "anonymous";
        }

        var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy ?? "signed-in").Distinct().ToList();
        if (policies.Count == 0)
        {
            return "anonymous";
        }

        // A group's bare RequireAuthorization() adds nothing beside a policy that already needs a signed-in caller.
        return string.Join("+", policies.Count > 1 ? policies.Where(p => p != "signed-in").Order() : policies);
    }

    /// <summary>The rule each resource calls for, by its path; null for a path this table does not know.</summary>
    private static string? Expected(RouteEndpoint endpoint)
    {
        var path = "/" + endpoint.RoutePattern.RawText!.Trim('/');
        var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods[0] ?? "GET";
        return (method, path) switch
        {
            (_, "/api/auth/register" or "/api/auth/login" or "/api/auth/refresh") => "anonymous",
            // Account mail: the link's token is the credential; asking for a reset names only an address.
            (_, "/api/auth/verify-email" or "/api/auth/forgot-password" or "/api/auth/reset-password") => "anonymous",
            (_, "/api/auth/logout" or "/api/auth/change-password" or "/api/auth/resend-verification") => AuthSchemes.SessionPolicy,
            ("POST", "/api/keys") => AuthSchemes.SessionPolicy,
            (_, "/api/keys" or "/api/keys/{id}") => Scope(ApiKeyScopes.Keys),
            (_, "/api/me" or "/api/credits" or "/api/credits/spend" or "/api/credits/usage") => Scope(ApiKeyScopes.CreditsRead),
            (_, "/api/models" or "/openapi/{documentName}.json") => "anonymous",
            (_, "/api/providers") => "signed-in",
            // Settings for the account's quests, as quests themselves.
            (_, "/api/account/fallbacks") => Scope(ApiKeyScopes.Quests),
            // Signed links need no credential; read by credentials the handler asks for the images scope.
            (_, "/images/{id}") => "anonymous",
            // A shared link's token is the credential: anyone holding it sees that one image.
            (_, "/images/shared/{token}") => "anonymous",
            _ when path.StartsWith("/docs", StringComparison.Ordinal) => "anonymous",
            _ when path.StartsWith("/api/admin", StringComparison.Ordinal) => AuthSchemes.AdminPolicy,
            _ when path.StartsWith("/api/quests", StringComparison.Ordinal) || path.StartsWith("/v1/", StringComparison.Ordinal)
                || path.StartsWith("/hubs/quests", StringComparison.Ordinal) => Scope(ApiKeyScopes.Quests),
            _ when path.StartsWith("/api/images", StringComparison.Ordinal) || path.StartsWith("/api/uploads", StringComparison.Ordinal)
                || path.StartsWith("/api/collections", StringComparison.Ordinal) => Scope(ApiKeyScopes.Images),
            _ when path.StartsWith("/api/webhooks", StringComparison.Ordinal) => Scope(ApiKeyScopes.Webhooks),
            _ => null,
        };
    }

    private static string Scope(string scope) => AuthSchemes.ScopePolicy(scope);

    private static string Describe(RouteEndpoint endpoint) =>
        $"{endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods[0] ?? "*"} {endpoint.RoutePattern.RawText}";
}
