using ImageGen.Api.Hubs;
using System.Text.Json.Nodes;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ImageGen.Api.Apis;

/// <summary>Every API the service maps, in one place, and the document that describes them.</summary>
internal static class ApiReference
{
    public const string DocumentPath = "/openapi/{documentName}.json";
    public const string ReferencePath = "/docs";
    private const string BearerScheme = "bearer";

    public static IEndpointRouteBuilder MapImageGenApis(this IEndpointRouteBuilder app)
    {
        app.MapAuthApi();
        app.MapAccountMailApi();
        app.MapKeysApi();
        app.MapCreditsApi();
        app.MapAdminApi();
        app.MapQuestsApi();
        app.MapModelsApi();
        app.MapImagesApi();
        app.MapCollectionsApi();
        app.MapAlertChannelsApi();
        app.MapAccountSettingsApi();
        app.MapUploadsApi();
        app.MapOpenAiApi();
        Webhooks.WebhooksApi.MapWebhooksApi(app);
        app.MapHub<QuestHub>(QuestHub.Path).RequireRateLimiting(Limits.LimitPolicies.HubConnect);
        return app;
    }

    /// <summary>The OpenAPI document (native API and <c>/v1</c>, the bearer scheme) and an interactive reference at <c>/docs</c>.</summary>
    public static void AddApiReference(this IServiceCollection services) =>
        services.AddOpenApi(options => options.AddSchemaTransformer(ModelEnum).AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "ImageGen API",
                Version = "v1",
                Description = "Image generation as quests: the native API under /api, and OpenAI's Images API under /v1. "
                    + "Errors are RFC 9457 problems with a stable code (under /v1, OpenAI's error envelope).",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An access token from /api/auth/login, or a personal API key (igk_...) with the scopes the call needs.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
            return Task.CompletedTask;
        }));

    /// <summary>
    /// The <c>model</c> of a quest and of OpenAI's requests lists the catalog's models (the catalog the API runs with,
    /// an operator's override included), so generated clients offer them.
    /// </summary>
    private static Task ModelEnum(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if ((type == typeof(CreateQuestRequest) || type == typeof(OpenAiImageRequest))
            && schema.Properties?.TryGetValue("model", out var property) == true
            && property is OpenApiSchema model)
        {
            var catalog = context.ApplicationServices.GetRequiredService<ModelCatalog>();
            model.Enum = [.. catalog.All.Where(m => m.Available).Select(m => (JsonNode)JsonValue.Create(m.Id))];
            model.Description = "A model of the catalog (GET /api/models); a retired one is refused with model_retired.";
        }

        return Task.CompletedTask;
    }

    public static void MapApiReference(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentPath).RequireRateLimiting(Limits.LimitPolicies.Read);
        // A fresh nonce on every page: its scripts run, no other script does (see ContentSecurityPolicy).
        app.MapScalarApiReference(ReferencePath, options => options.WithTitle("ImageGen API").WithOpenApiRoutePattern(DocumentPath).WithNonce())
            .RequireRateLimiting(Limits.LimitPolicies.Read);
    }

    /// <summary>
    /// The API's policy: nothing runs in what it answers (JSON, images), except on the reference page, whose scripts
    /// carry the nonce Scalar made for that response and load only from this origin.
    /// </summary>
    public static string ContentSecurityPolicy(HttpContext context) =>
        context.Items.TryGetValue(ScalarOptions.NonceHttpContextItemKey, out var nonce) && nonce is string value
            ? $"default-src 'self'; script-src 'self' 'nonce-{value}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
                + "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
            : ServiceDefaults.SecurityHeaders.NothingRuns;
}
