using System.Text.Json;
using ImageGen.Core.Catalog;
using ImageGen.Core.Providers;
using StackExchange.Redis;
using ImageGen.Api.Limits;

namespace ImageGen.Api.Apis;

internal static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/models", GetModels).RequireRateLimiting(LimitPolicies.Read).WithTags("Models").WithName("GetModels")
            .WithSummary("Every model with its parameters, limits and cost rule: the same rules the API validates with.");
        app.MapGet("/api/providers", GetProviders).RequireRateLimiting(LimitPolicies.Read).WithTags("Models").WithName("GetProviders")
            .WithSummary("Each provider's health as the workers last saw it: status, circuit state, last response time.")
            .RequireAuthorization();
        return app;
    }

    public static IReadOnlyList<ModelDescriptor> GetModels(ModelCatalog catalog) => catalog.All;

    public static async Task<IResult> GetProviders(IConnectionMultiplexer redis, ModelCatalog catalog)
    {
        var stored = (await redis.GetDatabase().HashGetAllAsync(ProviderHealthDto.RedisKey))
            .Select(e => JsonSerializer.Deserialize<ProviderHealthDto>(e.Value.ToString(), ProviderHealthDto.SerializerOptions)!)
            .ToDictionary(h => h.Provider);

        var providers = catalog.All.Select(m => m.Provider).Distinct().Select(provider => provider switch
        {
            ModelProvider.Local => new ProviderHealthDto { Provider = provider, Status = "healthy", Note = "Built in; always available." },
            _ => stored.GetValueOrDefault(provider) ?? new ProviderHealthDto { Provider = provider, Status = "unknown", Note = "Not called since the workers started." },
        });
        return TypedResults.Ok(providers.ToList());
    }
}
