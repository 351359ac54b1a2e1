using ImageGen.Api;
using ImageGen.Api.Apis;
using ImageGen.Api.Hubs;

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
app.MapAuthApi();
app.MapKeysApi();
app.MapCreditsApi();
app.MapAdminApi();
app.MapQuestsApi();
app.MapModelsApi();
app.MapImagesApi();
app.MapOpenAiApi();
app.MapHub<QuestHub>(QuestHub.Path);

app.Run();
