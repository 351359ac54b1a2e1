using ImageGen.Web;
using ImageGen.Web.Components;

var builder = WebApplication.CreateBuilder(args);

// Serve the framework's static assets from an unpublished build in any environment (tests and benchmarks run
// Release builds outside Development, where they would otherwise answer 500 and no circuit would start).
builder.WebHost.UseStaticWebAssets();

builder.AddServiceDefaults();
builder.AddWebServices();

var app = builder.Build();

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/error", createScopeForErrors: true);
}

app.UseWebSecurityHeaders();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapDefaultEndpoints();
app.MapStaticAssets();
app.MapAccountEndpoints();
app.MapImageLinkEndpoints();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();
