using System.Net;
using System.Text.Json;
using ImageGen.Api;
using ImageGen.Api.Apis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

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

        var mapped = MappedEndpoints();
        Assert.Contains(("POST", "/v1/images/generations"), mapped);
        Assert.Contains(("POST", "/api/quests"), mapped);
        var missing = mapped.Where(e => !paths.TryGetProperty(e.Path, out var item) || !item.TryGetProperty(e.Method.ToLowerInvariant(), out _)).ToList();
        Assert.True(missing.Count == 0, "Not in the document: " + string.Join(", ", missing));

        using var page = await anonymous.GetAsync("/docs", Token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("ImageGen API", await page.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    /// <summary>The API's own endpoint table: the same services and the same map call as the service, never started.</summary>
    private static List<(string Method, string Path)> MappedEndpoints()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["ConnectionStrings:imagegen-db"] = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none";
        builder.Configuration["ConnectionStrings:redis"] = "127.0.0.1:1,abortConnect=false";
        builder.AddServiceDefaults();
        builder.AddApplicationServices();
        using var app = builder.Build();
        app.MapImageGenApis();
        return [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>() is not null)
            .Where(e => !e.RoutePattern.RawText!.StartsWith("/hubs", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods
                .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/').TrimEnd('/'))))
            .Distinct()];
    }
}
