using ImageGen.Core.Catalog;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ImageGen.Data;
using ImageGen.Data.Queue;
using ImageGen.Worker.Providers;
using ImageGen.Worker.Services;
using Microsoft.Extensions.Options;

namespace ImageGen.Worker;

internal static class Extensions
{
    // RemoveAllResilienceHandlers is marked experimental; the alternative is two retry loops stacked on one call.
#pragma warning disable EXTEXP0001

    /// <summary>The provider adapters, their HTTP clients (our retry loop only: no standard resilience handler), and the router.</summary>
    private static void AddProviders(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProviderOptions>().BindConfiguration(ProviderOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IImageProvider, LocalSketchProvider>();
        builder.Services.AddSingleton<IImageProvider, OpenAIImageProvider>();
        builder.Services.AddSingleton<IImageProvider>(sp => new BflImageProvider(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(BflImageProvider.HttpClientName), sp.GetRequiredService<IOptions<ProviderOptions>>()));
        // No provider client follows a redirect (a result is fetched only where the provider's own answer points) or
        // reads an endless body; the OpenAI SDK's reading is its own, so its client caps every body it is given.
        builder.Services.AddHttpClient(OpenAIImageProvider.HttpClientName).RemoveAllResilienceHandlers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .AddHttpMessageHandler(sp => new ResponseCapHandler("OpenAI", () => sp.GetRequiredService<IOptions<ProviderOptions>>().Value.MaxResponseBytes))
            .AddHttpMessageHandler(() => new BillingPointHandler())
            .ConfigureHttpClient((sp, c) => c.Timeout = sp.GetRequiredService<IOptions<ProviderOptions>>().Value.OpenAI.RequestTimeout);
        // BFL's answers name the URLs to fetch next: a redirect from one of them is refused, never followed.
        builder.Services.AddHttpClient(BflImageProvider.HttpClientName).RemoveAllResilienceHandlers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .ConfigureHttpClient((sp, c) => c.Timeout = sp.GetRequiredService<IOptions<ProviderOptions>>().Value.Bfl.RequestTimeout);
        builder.Services.AddSingleton<IImageProvider>(sp => new MidjourneyImageProvider(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(MidjourneyImageProvider.HttpClientName), sp.GetRequiredService<IOptions<ProviderOptions>>()));
        builder.Services.AddHttpClient(MidjourneyImageProvider.HttpClientName).RemoveAllResilienceHandlers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .ConfigureHttpClient((sp, c) => c.Timeout = sp.GetRequiredService<IOptions<ProviderOptions>>().Value.Midjourney.RequestTimeout);
        builder.Services.AddSingleton<ProviderRouter>();
        builder.Services.AddHostedService<ProviderProbe>();
        foreach (var provider in new[] { ModelProvider.OpenAI, ModelProvider.BlackForestLabs })
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"provider-{provider.ToString().ToLowerInvariant()}", sp => new ProviderHealthCheck(sp.GetRequiredService<ProviderRouter>(), provider), HealthStatus.Degraded, ["providers"]));
        }
    }
#pragma warning restore EXTEXP0001

    public static void AddWorkerServices(this IHostApplicationBuilder builder)
    {
        // The model catalog with the operator's override: a bad one stops the service here, naming the entry and field.
        builder.Services.AddSingleton(ModelCatalog.FromSettings(key => builder.Configuration[key]));
        builder.AddImageGenDatabase();
        builder.AddSchemaGate();
        builder.AddRedisClient("redis");

        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddImageStore();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<QuestEventPublisher>();
        builder.Services.AddSingleton<QuestPreviews>();
        builder.Services.AddScoped<QuestProcessor>();
        builder.AddProviders();
        builder.Services.AddSingleton<QuestQueue>();
        builder.Services.AddHostedService<QuestConsumer>();
        builder.Services.AddHostedService<Reconciler>();
        // Long enough for the shutdown grace period plus handing quests back.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
    }
}
