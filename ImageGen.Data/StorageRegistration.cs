using ImageGen.Core.Storage;
using ImageGen.Data.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ImageGen.Data;

public static class StorageRegistration
{
    /// <summary>
    /// The image store, checked at start: an S3-compatible bucket when <c>ImageStore:S3:Bucket</c> is set, else the
    /// directory the AppHost gives (<c>ImageStore:Path</c>).
    /// </summary>
    public static void AddImageStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImageStoreOptions>()
            .BindConfiguration(ImageStoreOptions.Section)
            .Validate(o => o.UsesObjectStore || !string.IsNullOrWhiteSpace(o.Path), "ImageStore:Path or ImageStore:S3:Bucket is required.")
            .Validate(o => !o.UsesObjectStore || (o.S3.AccessKey.Length > 0 && o.S3.SecretKey.Length > 0), "ImageStore:S3 needs AccessKey and SecretKey.")
            .Validate(o => !o.UsesObjectStore || o.S3.ServiceUrl.Length == 0 || Uri.TryCreate(o.S3.ServiceUrl, UriKind.Absolute, out _), "ImageStore:S3:ServiceUrl is not an absolute URL.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IImageStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ImageStoreOptions>>().Value;
            return options.UsesObjectStore
                ? new S3ImageStore(options.S3, sp.GetRequiredService<TimeProvider>())
                : new FileSystemImageStore(options.Path);
        });
    }
}
