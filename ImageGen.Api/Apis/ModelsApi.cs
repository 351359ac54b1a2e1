using ImageGen.Core.Catalog;

namespace ImageGen.Api.Apis;

internal static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/models", GetModels).WithTags("Models").WithName("GetModels")
            .WithSummary("Every model with its limits: the same rules the API validates with.");
        return app;
    }

    public static IReadOnlyList<ModelDescriptor> GetModels() => ModelCatalog.All;
}
