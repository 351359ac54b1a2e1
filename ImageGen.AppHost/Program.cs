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

// The image store: a directory the API and the workers share (ImageGen:ImageStorePath to put it elsewhere), or an
// S3-compatible bucket (ImageGen:ImageStore:S3:*, for AWS S3, R2, MinIO, Ceph), or, with ImageGen:ObjectStore=local,
// a local S3-compatible server, to try the object store path on one machine.
var imageStore = builder.Configuration["ImageGen:ImageStorePath"] ?? infrastructure.Data.Combine("images");
IResourceBuilder<LocalObjectStoreResource>? objectStore = null;
// A published deployment keeps images in an object store, never on a disk that services share.
var publishedStore = builder.ExecutionContext.IsPublishMode ? PublishedObjectStore.Add(builder) : null;
if (builder.Configuration["ImageGen:ObjectStore"] == "local" && !builder.ExecutionContext.IsPublishMode)
{
    try
    {
        objectStore = builder.AddLocalObjectStore("object-store", infrastructure.Data);
    }
    catch (InfrastructureException e)
    {
        await Console.Error.WriteLineAsync($"ImageGen cannot start: {e.Message}");
        return 1;
    }
}

// The first operator, and the key that signs image URLs. Generated on first run and kept in user secrets;
// set them with `dotnet user-secrets` or in the dashboard.
var adminEmail = builder.AddParameter("admin-email", builder.Configuration["Parameters:admin-email"] ?? "admin@imagegen.local");
var adminPassword = builder.AddParameter("admin-password", new GenerateParameterDefault { MinLength = 16, Special = false, MinLower = 2, MinUpper = 2, MinNumeric = 2 }, secret: true, persist: true);
var signingKey = builder.AddParameter("image-signing-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

var migrations = builder.AddProject<Projects.ImageGen_MigrationService>("migrations")
    .WithReference(infrastructure.Database).WaitFor(infrastructure.DatabaseServer)
    .WithEnvironment("Admin__Email", adminEmail)
    .WithEnvironment("Admin__Password", adminPassword)
    .WithSettings(builder.Configuration, "Passwords");

// One API instance by default; more with ImageGen:ApiReplicas. Each instance relays quest events to its own hub
// connections, and hub clients connect with WebSockets alone (no negotiate request that another replica could answer).
var api = builder.AddProject<Projects.ImageGen_Api>("api")
    .WithReplicas(builder.Configuration.GetValue("ImageGen:ApiReplicas", 1))
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(infrastructure.Database).WaitFor(infrastructure.DatabaseServer)
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithImageStore(imageStore, objectStore, publishedStore)
    .WithEnvironment("ImageGen__Images__SigningKey", signingKey)
    .WithSettings(builder.Configuration, "Alerts")
    .WithSettings(builder.Configuration, "Passwords")
    .WithSettings(builder.Configuration, "Accounts")
    .WithSettings(builder.Configuration, "RateLimits")
    .WithSettings(builder.Configuration, "ClientAddress")
    .WithSettings(builder.Configuration, "OpenAi")
    .WithSettings(builder.Configuration, "Uploads")
    .WithSettings(builder.Configuration, "Webhooks")
    .WithSettings(builder.Configuration, "Catalog")
    .WaitForCompletion(migrations)
    .WithOperatorCommands(adminEmail, adminPassword);

// A waiting quest's place in the queue is counted by the fair-share limit the workers claim by.
if (builder.Configuration["ImageGen:Worker:MaxRunningPerUser"] is { } maxRunningPerUser)
{
    api.WithEnvironment("Worker__MaxRunningPerUser", maxRunningPerUser);
}

// The dashboard's address, so the quest debug view can link a quest's trace.
if (builder.Configuration["ASPNETCORE_URLS"]?.Split(';')[0] is { Length: > 0 } dashboardUrl)
{
    api.WithEnvironment("Dashboard__Url", dashboardUrl);
}

var providerSim = builder.AddProviderSimulator();

// Two workers by default: the queue, leases and reconciler are built for any number.
var workerReplicas = builder.Configuration.GetValue("ImageGen:WorkerReplicas", 2);
var worker = builder.AddProject<Projects.ImageGen_Worker>("worker")
    .WithReplicas(workerReplicas)
    .WithProviderAccountLimits(builder.Configuration)
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(infrastructure.Database).WaitFor(infrastructure.DatabaseServer)
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithImageStore(imageStore, objectStore, publishedStore)
    .WithSettings(builder.Configuration, "Worker")
    .WithSettings(builder.Configuration, "Providers")
    .WithSettings(builder.Configuration, "Catalog")
    .WithProviders(providerSim)
    .WaitForCompletion(migrations);
if (builder.ExecutionContext.IsPublishMode)
{
    // A deployment pins what one worker runs at once: its autoscaler's lag per replica assumes it.
    worker.WithEnvironment("Worker__MaxConcurrency", builder.Configuration["ImageGen:Worker:MaxConcurrency"] ?? "4");
}

// One web instance by default; more with ImageGen:WebReplicas, each a resource of its own (web, web-2, ...): the
// gateway keeps each browser on the instance that holds its Blazor circuit (an affinity cookie), so it needs each
// instance's own address, which replicas behind one proxied endpoint would not give it.
var webs = Enumerable.Range(1, Math.Max(1, builder.Configuration.GetValue("ImageGen:WebReplicas", 1))).Select(i => builder
    .AddProject<Projects.ImageGen_Web>(i == 1 ? "web" : $"web-{i}")
    .WithHttpEndpoint()
    .WithHttpHealthCheck("/health")
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithImageLinkSettings(objectStore, publishedStore)
    // The same model catalog as the API and the workers (ImageGen:Catalog:Override or :OverrideFile): the form offers what the API takes.
    .WithSettings(builder.Configuration, "Catalog")
    // How pages recover live updates (ImageGen:LiveUpdates:ReconnectDelays, RetryCap, PollInterval; tests shorten them).
    .WithSettings(builder.Configuration, "LiveUpdates")
    // Starts beside the API rather than after it (its pages ask the API per request; the dashboard shows the API as
    // starting until it is healthy): waiting for each other in a line made the start a queue of single-process starts.
    .WithReference(api)).ToList();

// Not proxied: the gateway sees callers' real addresses (its per-address limits depend on them), with one hop less.
var gateway = builder.AddProject<Projects.ImageGen_Gateway>("gateway")
    .WithHttpEndpoint(port: GatewaySettings.Port(builder.Configuration), isProxied: false)
    .WithSettings(builder.Configuration, "RateLimits")
    .WithSettings(builder.Configuration, "ClientAddress")
    // Its per-address limits are counters in Redis, shared by every gateway instance.
    .WithReference(infrastructure.Redis).WaitFor(infrastructure.Redis)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithReference(api);
foreach (var web in webs)
{
    gateway.WithReference(web);
    if (webs.Count > 1)
    {
        gateway.WithEnvironment($"Gateway__WebDestinations__{webs.IndexOf(web)}", $"http://{web.Resource.Name}");
    }
}

if (builder.ExecutionContext.IsPublishMode)
{
    // In a cluster the web's pods are found by a headless Service's name (deploy/kubernetes: web-pods), one gateway
    // destination per pod.
    gateway.WithEnvironment("Gateway__WebPods", "http://web-pods:8080");
}

if (!infrastructure.Data.Ephemeral)
{
    // The public entry opens when what it serves answers: a page opened from the dashboard in the first seconds of a
    // start got the web's error page while the API was still starting. Throw-away graphs (tests, the benchmark) wait
    // for every service themselves and start the gateway beside the others.
    gateway.WaitFor(api);
    webs.ForEach(web => gateway.WaitFor(web));
}

// Account mail (verification and password reset links) leaves through the configured SMTP relay (ImageGen:Mail:*),
// or, when none is set, through the development mail server, whose inbox the dashboard links to. Links point at the
// gateway unless ImageGen:Mail:LinkBase names the public address.
api.WithSettings(builder.Configuration, "Mail");
if (builder.ExecutionContext.IsPublishMode)
{
    // A deployment names its relay (deploy/kubernetes: the imagegen-mail ConfigMap and two keys of the Secret).
    foreach (var (setting, parameter, secret) in new[] { ("Host", "mail-host", false), ("Port", "mail-port", false), ("Security", "mail-security", false),
        ("From", "mail-from", false), ("LinkBase", "mail-link-base", false), ("UserName", "mail-user", true), ("Password", "mail-password", true) })
    {
        api.WithEnvironment($"Mail__{setting}", builder.AddParameter(parameter, secret: secret));
    }
}
else if (builder.Configuration["ImageGen:Mail:Host"] is not { Length: > 0 })
{
    var mail = builder.AddDevMailServer(infrastructure.Data);
    api.WithEnvironment("Mail__Host", "127.0.0.1")
        .WithEnvironment("Mail__Port", ReferenceExpression.Create($"{mail.GetEndpoint(DevMailServer.SmtpEndpoint).Property(EndpointProperty.Port)}"))
        .WithEnvironment("Mail__Security", "None")
        .WaitFor(mail);
}

if (builder.Configuration["ImageGen:Mail:LinkBase"] is not { Length: > 0 } && !builder.ExecutionContext.IsPublishMode)
{
    api.WithEnvironment("Mail__LinkBase", gateway.GetEndpoint("http"));
}

// Services export metrics to the dashboard every 10 s, not every second (Aspire's default for development): at
// idle, a one-second export was most of what every service spent (ImageGen:MetricExportInterval, in milliseconds).
var metricExportInterval = builder.Configuration["ImageGen:MetricExportInterval"] ?? "10000";
foreach (var project in builder.Resources.OfType<ProjectResource>())
{
    builder.CreateResourceBuilder(project).WithEnvironment(context => context.EnvironmentVariables["OTEL_METRIC_EXPORT_INTERVAL"] = metricExportInterval);
}

builder.RunServicesFromBuildOutput();

using var app = builder.Build();
await app.RunAsync();
// Non-zero when the start was given up (a local Redis or Postgres that stopped while starting).
return Environment.ExitCode;
