using ImageGen.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ImageGen.Data;

public static class StorageRegistration
{
    /// <summary>The filesystem image store on the directory the AppHost gives (<c>ImageStore:Path</c>), checked at start.</summary>
    public static void AddImageStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImageStoreOptions>()
            .BindConfiguration(ImageStoreOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Path), "ImageStore:Path is required.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IImageStore>(sp => new FileSystemImageStore(sp.GetRequiredService<IOptions<ImageStoreOptions>>().Value.Path));
    }
}
