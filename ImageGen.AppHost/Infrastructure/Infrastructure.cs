using Microsoft.Extensions.Hosting;

namespace ImageGen.AppHost.Infrastructure;

/// <summary>Redis and the database, whichever way they run, under the names every service uses.</summary>
public sealed record Infrastructure(
    InfrastructureMode Mode,
    DataDirectory Data,
    IResourceBuilder<IResourceWithConnectionString> Redis,
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString> DatabaseServer);

internal static class InfrastructureExtensions
{
    public const string RedisName = "redis";
    public const string PostgresName = "postgres";
    public const string DatabaseName = "imagegen-db";

    /// <summary>Adds <c>redis</c>, <c>postgres</c> and <c>imagegen-db</c> as containers or as local processes.</summary>
    public static Infrastructure AddInfrastructure(this IDistributedApplicationBuilder builder)
    {
        // A published model (a manifest, a deployment) always declares containers: local processes exist only on this machine.
        var mode = builder.ExecutionContext.IsPublishMode ? InfrastructureMode.Containers : InfrastructureModeDetector.Choose(builder.Configuration);
        var data = DataDirectory.Create(builder.Configuration);
        builder.Services.AddHostedService(sp => new DataDirectoryCleanup(data, sp.GetRequiredService<IHostApplicationLifetime>()));
        return mode == InfrastructureMode.Containers ? AddContainers(builder, data) : AddLocal(builder, data);
    }

    private static Infrastructure AddContainers(IDistributedApplicationBuilder builder, DataDirectory data)
    {
        var redis = builder.AddRedis(RedisName);
        var postgres = builder.AddPostgres(PostgresName);
        if (!data.Ephemeral)
        {
            // The developer's database and queue survive restarts; test graphs start empty.
            redis.WithDataVolume("imagegen-redis");
            postgres.WithDataVolume("imagegen-postgres");
        }

        var database = postgres.AddDatabase(DatabaseName);
        return new Infrastructure(InfrastructureMode.Containers, data, As(builder, redis.Resource), As(builder, database.Resource), As(builder, postgres.Resource));
    }

    private static Infrastructure AddLocal(IDistributedApplicationBuilder builder, DataDirectory data)
    {
        DebianPackages.Ensure("local mode (Redis and PostgreSQL as local processes)", DebianPackages.LocalMode, DebianPackages.LocalModeReady);
        var redis = builder.AddLocalRedis(RedisName, data);
        var postgres = builder.AddLocalPostgres(PostgresName, data);
        var database = postgres.AddDatabase(DatabaseName);
        LocalStartWatch.Attach(builder,
            [(redis.Resource, redis.Resource.WorkingDirectory), (postgres.Resource, Path.Combine(postgres.Resource.WorkingDirectory, "data"))]);
        return new Infrastructure(InfrastructureMode.Local, data, As(builder, redis.Resource), As(builder, database.Resource), As(builder, postgres.Resource));
    }

    private static IResourceBuilder<IResourceWithConnectionString> As(IDistributedApplicationBuilder builder, IResourceWithConnectionString resource) =>
        builder.CreateResourceBuilder(resource);
}
