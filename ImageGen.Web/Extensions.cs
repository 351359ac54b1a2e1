using ImageGen.Web.Services;

namespace ImageGen.Web;

internal static class Extensions
{
    public static void AddWebServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddHttpClient<ImageGenApiClient>(client => client.BaseAddress = new Uri("http://api"));
        builder.Services.AddScoped<QuestEventsConnection>();
    }
}
