namespace ImageGen.AppHost;

internal static class GatewaySettings
{
    public const string PortKey = "ImageGen:GatewayPort";
    public const int DefaultPort = 8080;

    /// <summary>The gateway's public port: 8080 unless configured; 0 picks a free one (parallel test graphs).</summary>
    public static int? Port(IConfiguration configuration)
    {
        var port = configuration.GetValue<int?>(PortKey) ?? DefaultPort;
        return port == 0 ? null : port;
    }
}

internal static class WorkerSettings
{
    /// <summary>Passes <c>ImageGen:Worker:*</c> settings of the AppHost on to the workers (e.g. render pacing in tests).</summary>
    public static IResourceBuilder<ProjectResource> WithWorkerSettings(this IResourceBuilder<ProjectResource> worker, IConfiguration configuration)
    {
        foreach (var setting in configuration.GetSection("ImageGen:Worker").GetChildren())
        {
            worker.WithEnvironment($"Worker__{setting.Key}", setting.Value);
        }

        return worker;
    }
}
