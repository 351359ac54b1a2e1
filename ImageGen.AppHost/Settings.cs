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
    /// e.g. <c>ImageGen:Worker:RenderStepDelay</c> becomes the worker's <c>Worker:RenderStepDelay</c>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSettings(this IResourceBuilder<ProjectResource> service, IConfiguration configuration, string section)
    {
        foreach (var setting in configuration.GetSection($"ImageGen:{section}").GetChildren())
        {
            service.WithEnvironment($"{section}__{setting.Key}", setting.Value);
        }

        return service;
    }
}
