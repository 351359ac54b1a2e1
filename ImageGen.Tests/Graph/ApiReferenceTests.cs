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
}
