using ImageGen.Core.Storage;
using ImageGen.Data;
using ImageGen.Worker.Services;
using Microsoft.Extensions.Options;

namespace ImageGen.Worker;

internal static class Extensions
{
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
        builder.Services.AddHostedService<QuestConsumer>();
    }
}
