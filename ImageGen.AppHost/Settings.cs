namespace ImageGen.AppHost;

internal static class GatewaySettings
{
    public const string PortKey = "ImageGen:GatewayPort";
    public const int DefaultPort = 8080;

    /// <summary>
    /// The gateway's public port: 8080 unless configured. 0 (parallel test graphs) leaves it to the orchestrator, which
    /// picks a free port when it starts the gateway: one picked here, long before, could be taken by then.
    /// </summary>
    public static int? Port(IConfiguration configuration)
    {
        var port = configuration.GetValue<int?>(PortKey) ?? DefaultPort;
        return port == 0 ? null : port;
    }
}

internal static class ServiceSettings
{
    /// <summary>
    /// Passes the AppHost's <c>ImageGen:{section}:*</c> settings on to a service as its <c>{section}:*</c> settings,
    /// e.g. <c>ImageGen:Worker:RenderStepDelay</c> becomes the worker's <c>Worker:RenderStepDelay</c> (nested sections
    /// too: <c>ImageGen:ImageStore:S3:Bucket</c> becomes <c>ImageStore:S3:Bucket</c>).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSettings(this IResourceBuilder<ProjectResource> service, IConfiguration configuration, string section)
    {
        var prefix = $"ImageGen:{section}:";
        foreach (var (key, value) in configuration.GetSection($"ImageGen:{section}").AsEnumerable())
        {
            if (value is not null && key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                service.WithEnvironment($"{section}__{key[prefix.Length..].Replace(":", "__", StringComparison.Ordinal)}", value);
            }
        }

        return service;
    }
}

internal static class ImageStoreSettings
{
    /// <summary>
    /// Where a service keeps images: the local object store when the graph runs one, else the shared directory plus any
    /// <c>ImageGen:ImageStore:*</c> settings (an S3 bucket among them).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithImageStore(this IResourceBuilder<ProjectResource> service, string directory,
        IResourceBuilder<Infrastructure.LocalObjectStoreResource>? objectStore, PublishedObjectStore? published)
    {
        if (published is not null)
        {
            return published.GiveTo(service, withKeys: true);
        }

        if (objectStore is not null)
        {
            foreach (var (name, value) in objectStore.Resource.ServiceSettings())
            {
                service.WithEnvironment(name, value);
            }

            return service.WaitFor(objectStore);
        }

        var configuration = service.ApplicationBuilder.Configuration;
        return service.WithEnvironment("ImageStore__Path", directory).WithSettings(configuration, "ImageStore");
    }

    /// <summary>What the web needs to know of the store (where image links point), never its keys.</summary>
    public static IResourceBuilder<ProjectResource> WithImageLinkSettings(this IResourceBuilder<ProjectResource> service,
        IResourceBuilder<Infrastructure.LocalObjectStoreResource>? objectStore, PublishedObjectStore? published)
    {
        if (published is not null)
        {
            return published.GiveTo(service, withKeys: false);
        }

        var settings = objectStore is not null
            ? objectStore.Resource.ServiceSettings()
            : service.ApplicationBuilder.Configuration.GetSection("ImageGen:ImageStore:S3").GetChildren()
                .Where(s => s.Value is not null).Select(s => new KeyValuePair<string, string>($"ImageStore__S3__{s.Key}", s.Value!));
        foreach (var (name, value) in settings)
        {
            if (!name.EndsWith("Key", StringComparison.Ordinal))
            {
                service.WithEnvironment(name, value);
            }
        }

        return service;
    }
}

/// <summary>
/// The object store of a published deployment, as parameters the deployment fills in (the bucket, its address and
/// region, and its key pair as secrets).
/// </summary>
internal sealed class PublishedObjectStore
{
    private readonly List<(string Setting, IResourceBuilder<ParameterResource> Value, bool IsKey)> _settings = [];

    public static PublishedObjectStore Add(IDistributedApplicationBuilder builder)
    {
        var store = new PublishedObjectStore();
        store._settings.Add(("Bucket", builder.AddParameter("image-store-bucket"), false));
        store._settings.Add(("ServiceUrl", builder.AddParameter("image-store-service-url", ""), false));
        store._settings.Add(("PublicUrl", builder.AddParameter("image-store-public-url", ""), false));
        store._settings.Add(("Region", builder.AddParameter("image-store-region", "us-east-1"), false));
        store._settings.Add(("ForcePathStyle", builder.AddParameter("image-store-force-path-style", "false"), false));
        store._settings.Add(("AccessKey", builder.AddParameter("image-store-access-key", secret: true), true));
        store._settings.Add(("SecretKey", builder.AddParameter("image-store-secret-key", secret: true), true));
        return store;
    }

    public IResourceBuilder<ProjectResource> GiveTo(IResourceBuilder<ProjectResource> service, bool withKeys)
    {
        foreach (var (setting, value, isKey) in _settings)
        {
            if (withKeys || !isKey)
            {
                service.WithEnvironment($"ImageStore__S3__{setting}", value);
            }
        }

        return service;
    }
}
