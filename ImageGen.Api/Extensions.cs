using System.Text.Json;
using System.Text.Json.Serialization;
using ImageGen.Api.Problems;
using ImageGen.Api.Services;
using ImageGen.Core.Storage;
using ImageGen.Data;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ImageGen.Api;

internal static class Extensions
{
    /// <summary>Registers the API's own services: data, queue, events, image store, JSON and error handling.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddImageGenDatabase();
        builder.AddRedisClient("redis");

        builder.Services.AddOptions<ImageStoreOptions>()
            .BindConfiguration(ImageStoreOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Path), "ImageStore:Path is required.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IImageStore>(sp => new FileSystemImageStore(sp.GetRequiredService<IOptions<ImageStoreOptions>>().Value.Path));

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<QuestQueue>();
        builder.Services.AddHostedService<QuestEventForwarder>();
        builder.Services.AddSignalR().AddJsonProtocol(o => ConfigureJson(o.PayloadSerializerOptions));

        builder.Services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        // Binding failures (malformed JSON, wrong types) throw, so ApiExceptionHandler can name the field at fault.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
    }

    private static void ConfigureJson(JsonSerializerOptions options)
    {
        // "width": "512" is a wrong type, not a number: the web defaults would accept it.
        options.NumberHandling = JsonNumberHandling.Strict;
        options.Converters.Add(new JsonStringEnumConverter());
    }
}
