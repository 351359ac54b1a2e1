using System.Net;
using System.Text.Json;

namespace ImageGen.Tests.Graph;

/// <summary>
/// The OpenAPI document and its reference page, through the gateway: every endpoint the API maps (native and /v1) is
/// in the document, so generated clients and the /docs page never miss a call.
/// </summary>
public sealed class ApiReferenceTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_mapped_endpoint_is_in_the_openapi_document_served_through_the_gateway()
    {
        using var anonymous = new HttpClient { BaseAddress = graph.GatewayAddress };
        using var response = await anonymous.GetAsync("/openapi/v1.json", Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(Token), cancellationToken: Token);
        var paths = document.RootElement.GetProperty("paths");
        Assert.Equal("http", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("type").GetString());

        var mapped = Unit.ApiEndpointTable.Routes();
        Assert.Contains(("POST", "/v1/images/generations"), mapped);
        Assert.Contains(("POST", "/api/quests"), mapped);
        var missing = mapped.Where(e => !paths.TryGetProperty(e.Path, out var item) || !item.TryGetProperty(e.Method.ToLowerInvariant(), out _)).ToList();
        Assert.True(missing.Count == 0, "Not in the document: " + string.Join(", ", missing));

        using var page = await anonymous.GetAsync("/docs", Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("ImageGen API", await page.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_response_carries_the_security_headers_and_the_reference_page_runs_only_its_own_scripts()
    {
        using var anonymous = new HttpClient { BaseAddress = graph.GatewayAddress };
        foreach (var path in new[] { "/docs", "/openapi/v1.json", "/api/models", "/api/quests", "/images/not-an-id", "/v1/models", "/account/login", "/api/no-such-thing" })
        {
            using var response = await anonymous.GetAsync(path, Token);
            Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var sniff) && sniff.Single() == "nosniff", $"{path}: nosniff");
            Assert.True(response.Headers.TryGetValues("X-Frame-Options", out var frame) && frame.Single() == "DENY", $"{path}: X-Frame-Options");
            Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var policies), $"{path}: no policy");
            Assert.Contains("frame-ancestors 'none'", policies.Single(), StringComparison.Ordinal);
        }

        using var page = await anonymous.GetAsync("/docs", Token);
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = System.Text.RegularExpressions.Regex.Match(policy, "'nonce-([^']+)'").Groups[1].Value;
        Assert.NotEmpty(nonce);
        var html = await page.Content.ReadAsStringAsync(Token);
        var scripts = System.Text.RegularExpressions.Regex.Matches(html, "<script[^>]*>").Select(m => m.Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, tag => Assert.Contains($"nonce=\"{nonce}\"", tag, StringComparison.Ordinal));

        // A fresh nonce each time: one seen before is of no use to an injected script.
        using var again = await anonymous.GetAsync("/docs", Token);
        Assert.DoesNotContain($"'nonce-{nonce}'", again.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        using var json = await anonymous.GetAsync("/api/models", Token);
        Assert.Contains("default-src 'none'", json.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }
}
