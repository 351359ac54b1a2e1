using ImageGen.AppHost;
using ImageGen.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

Infrastructure infrastructure;
try
{
    infrastructure = builder.AddInfrastructure();
}
catch (InfrastructureException e)
{
    // One clear line instead of a stack trace: what is missing and how to get it.
    await Console.Error.WriteLineAsync($"ImageGen cannot start: {e.Message}");
    return 1;
}

var imageStore = infrastructure.Data.Combine("images");

var migrations = builder.AddProject<Projects.ImageGen_MigrationService>("migrations")
    .WithReference(infrastructure.Database).WaitFor(infrastructure.DatabaseServer);

var api = builder.AddProject<Projects.ImageGen_Api>("api")
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(infrastructure.Database).WaitFor(infrastructure.DatabaseServer)
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithEnvironment("ImageStore__Path", imageStore)
    .WaitForCompletion(migrations);

builder.AddProject<Projects.ImageGen_Worker>("worker")
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(infrastructure.Database).WaitFor(infrastructure.DatabaseServer)
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithEnvironment("ImageStore__Path", imageStore)
    .WithWorkerSettings(builder.Configuration)
    .WaitForCompletion(migrations);

var web = builder.AddProject<Projects.ImageGen_Web>("web")
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(api).WaitFor(api);

builder.AddProject<Projects.ImageGen_Gateway>("gateway")
    .WithHttpEndpoint(port: GatewaySettings.Port(builder.Configuration))
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithReference(api).WaitFor(api)
    .WithReference(web).WaitFor(web);

using var app = builder.Build();
await app.RunAsync();
return 0;
