using ImageGen.Core.Storage;
using ImageGen.Data;
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
        builder.Services.AddHttpClient(OpenAIImageProvider.HttpClientName).RemoveAllResilienceHandlers()
            .ConfigureHttpClient((sp, c) => c.Timeout = sp.GetRequiredService<IOptions<ProviderOptions>>().Value.OpenAI.RequestTimeout);
        builder.Services.AddHttpClient(BflImageProvider.HttpClientName).RemoveAllResilienceHandlers()
            .ConfigureHttpClient((sp, c) => c.Timeout = sp.GetRequiredService<IOptions<ProviderOptions>>().Value.Bfl.RequestTimeout);
        builder.Services.AddSingleton<ProviderRouter>();
    }
#pragma warning restore EXTEXP0001

    public static void AddWorkerServices(this IHostApplicationBuilder builder)
    {
        builder.AddImageGenDatabase();
        builder.AddRedisClient("redis");

        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ImageStoreOptions>()
            .BindConfiguration(ImageStoreOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Path), "ImageStore:Path is required.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IImageStore>(sp => new FileSystemImageStore(sp.GetRequiredService<IOptions<ImageStoreOptions>>().Value.Path));

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<QuestEventPublisher>();
        builder.Services.AddScoped<QuestProcessor>();
        builder.AddProviders();
        builder.Services.AddHostedService<QuestConsumer>();
    }
}
