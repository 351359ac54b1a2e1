using ImageGen.Api;
using ImageGen.Api.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseSessionGuard();
app.UseAuthorization();
// After authorization: the per-user limits partition by who is signed in.
app.UseRateLimiter();

app.MapDefaultEndpoints();
app.MapImageGenApis();
app.MapApiReference();

app.Run();
