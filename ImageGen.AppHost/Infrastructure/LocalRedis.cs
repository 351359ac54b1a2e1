using Aspire.Hosting.ApplicationModel;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>A <c>redis-server</c> process that offers the same connection string an Aspire Redis container would.</summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory, int port)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public int Port { get; } = port;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"127.0.0.1:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)},abortConnect=false");
}

internal static class LocalRedisExtensions
{
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(this IDistributedApplicationBuilder builder, string name, DataDirectory data)
    {
        var server = LocalProcesses.FindExecutable(["/usr/bin/redis-server", .. LocalProcesses.OnPath("redis-server")])
            ?? throw new InfrastructureException($"Local mode needs redis-server, which is not installed. {LocalProcesses.InstallHint}");

        var port = LocalProcesses.FreePort();
        var directory = data.Combine("redis");
        var resource = new LocalRedisResource(name, server, directory, port);
        var healthKey = $"{name}-ready";
        builder.Services.AddHealthChecks().AddRedis($"127.0.0.1:{port},abortConnect=false,connectTimeout=2000", healthKey);

        string[] persistence = data.Ephemeral
            ? ["--save", "", "--appendonly", "no"]
            : ["--appendonly", "yes", "--appendfsync", "everysec"];
        return builder.AddResource(resource)
            .WithArgs(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, .. persistence])
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthKey);
    }
}
