using ImageGen.Api;
using ImageGen.Api.Apis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The API's own endpoint table: the same services and the same map call as the service, built but never started (no
/// database or Redis is reached), for tests that walk every endpoint.
/// </summary>
internal static class ApiEndpointTable
{
    private static readonly Lazy<IReadOnlyList<RouteEndpoint>> Table = new(Build);

    /// <summary>Every route endpoint the API maps, the hub's included.</summary>
    public static IReadOnlyList<RouteEndpoint> Endpoints => Table.Value;

    /// <summary>The endpoints with an HTTP method, as (method, path) pairs, hubs and the reference itself (document, /docs) left out.</summary>
    public static List<(string Method, string Path)> Routes() =>
    [
        .. Endpoints
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>() is not null)
            .Where(e => !e.RoutePattern.RawText!.StartsWith("/hubs", StringComparison.Ordinal)
                && !e.RoutePattern.RawText.StartsWith("/openapi", StringComparison.Ordinal) && !e.RoutePattern.RawText.StartsWith("/docs", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods
                .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/').TrimEnd('/'))))
            .Distinct(),
    ];

    private static IReadOnlyList<RouteEndpoint> Build()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["ConnectionStrings:imagegen-db"] = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none";
        builder.Configuration["ConnectionStrings:redis"] = "127.0.0.1:1,abortConnect=false";
        builder.AddServiceDefaults();
        builder.AddApplicationServices();
        using var app = builder.Build();
        app.MapImageGenApis();
        app.MapApiReference();
        return [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()];
    }
}
