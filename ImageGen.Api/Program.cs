using ImageGen.Api.Hubs;
using ImageGen.Api;
using ImageGen.Api.Apis;
using ImageGen.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseSecurityHeaders(ApiReference.ContentSecurityPolicy);
app.UseExceptionHandler();
app.UseStatusCodePages();
// While an operator pauses live updates, hub connections are refused here at once; clients poll the REST API.
app.UseLiveUpdatesPause();
app.UseAuthentication();
app.UseSessionGuard();
app.UseAuthorization();
// After authorization: the per-user limits partition by who is signed in.
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapImageGenApis();
app.MapApiReference();

app.Run();
