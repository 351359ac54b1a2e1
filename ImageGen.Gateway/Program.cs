using Microsoft.Extensions.DependencyInjection.Extensions;
using ImageGen.Gateway;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
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
