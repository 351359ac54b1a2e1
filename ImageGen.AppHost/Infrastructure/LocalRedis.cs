
namespace ImageGen.AppHost.Infrastructure;

/// <summary>A <c>redis-server</c> process that offers the same connection string an Aspire Redis container would.</summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory, int port, string password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public int Port { get; } = port;
    internal string Password { get; } = password;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"127.0.0.1:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)},password={Password},abortConnect=false");
}

internal static class LocalRedisExtensions
{
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(this IDistributedApplicationBuilder builder, string name, DataDirectory data)
    {
        var server = FindServer()
            ?? throw new InfrastructureException($"Local mode needs redis-server, which is not installed. {LocalProcesses.InstallHint}");

        var port = LocalProcesses.FreePort();
        var directory = data.Combine("redis");
        // Like Postgres, Redis asks for a password (it holds the web's sessions): generated once, kept beside the data,
        // and given to the server in a config file (a command-line argument would show in every process list).
        var (config, password) = EnsureConfig(directory);
        var resource = new LocalRedisResource(name, server, directory, port, password);
        var healthKey = $"{name}-ready";
        builder.Services.AddHealthChecks().AddRedis($"127.0.0.1:{port},password={password},abortConnect=false,connectTimeout=2000", healthKey);

        string[] persistence = data.Ephemeral
            ? ["--save", "", "--appendonly", "no"]
            : ["--appendonly", "yes", "--appendfsync", "everysec"];
        return builder.AddResource(resource)
            .WithArgs([config, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, .. persistence])
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthKey);
    }

    internal static string? FindServer() => LocalProcesses.FindExecutable(["/usr/bin/redis-server", .. LocalProcesses.OnPath("redis-server")]);

    private static (string Config, string Password) EnsureConfig(string directory)
    {
        Directory.CreateDirectory(directory);
        var passwordFile = Path.Combine(directory, "password");
        if (!File.Exists(passwordFile))
        {
            File.WriteAllText(passwordFile, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        }

        var password = File.ReadAllText(passwordFile).Trim();
        var config = Path.Combine(directory, "redis.conf");
        File.WriteAllText(config, $"requirepass {password}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return (config, password);
    }
}
