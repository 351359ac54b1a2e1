using Microsoft.Extensions.DependencyInjection.Extensions;
using ImageGen.Gateway;
using ImageGen.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGateway();
builder.AddGatewayRateLimits();
builder.Services.TryAddSingleton(TimeProvider.System);

var app = builder.Build();

// The gateway's own answers (a refusal of its limits, a route it has none for) carry the headers too; a relayed
// response keeps the policy its service gave it.
app.UseSecurityHeaders(keepExistingPolicy: true);
app.UseRateLimiter();
app.MapDefaultEndpoints();
app.MapReverseProxy();

app.Run();
