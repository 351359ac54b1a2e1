using Microsoft.Extensions.DependencyInjection.Extensions;
using ImageGen.Gateway;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
// The gateway only relays bytes and counts in memory: it never blocks or computes for long, so Kestrel runs its
// requests and writes on the thread their socket completed on instead of queueing each step to the thread pool (one
// thread wake-up less per hop, on the path of every request and every progress event). Together with the runtime's
// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, which the AppHost and the deployment set for the gateway only
// (README, Benchmark). Not for the API or the workers: they hash passwords, encode images and wait on disks.
builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
builder.AddGateway();
builder.AddGatewayRateLimits();
builder.Services.TryAddSingleton(TimeProvider.System);

var app = builder.Build();

app.UseRateLimiter();
app.UseWhen(context => SignupCap.IsSignup(context.Request), branch =>
    branch.Use((context, next) => context.RequestServices.GetRequiredService<SignupCap>().InvokeAsync(context, next)));
app.MapDefaultEndpoints();
app.MapReverseProxy();

app.Run();
