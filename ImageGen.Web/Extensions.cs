using ImageGen.Core.Catalog;
using ImageGen.ServiceDefaults;
using ImageGen.Core.Storage;
using ImageGen.Web.Services;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using StackExchange.Redis;

namespace ImageGen.Web;

internal static class Extensions
{
    public static void AddWebServices(this IHostApplicationBuilder builder)
    {
        // The model catalog with the operator's override: a bad one stops the service here, naming the entry and field.
        builder.Services.AddSingleton(ModelCatalog.FromSettings(key => builder.Configuration[key]));
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.AddRedisClient("redis");

        // Cookie and antiforgery keys are shared through Redis, so any web replica can read any cookie.
        builder.Services.AddDataProtection().SetApplicationName("ImageGen.Web");
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IConnectionMultiplexer>((o, redis) =>
            o.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), "web:data-protection-keys"));
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.Cookie.Name = "imagegen";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.LoginPath = "/account/login";
                o.AccessDeniedPath = "/account/denied";
                o.ExpireTimeSpan = WebSessionStore.Lifetime;
                o.SlidingExpiration = true;
            });
        builder.Services.AddAuthorization();
        builder.Services.AddCascadingAuthenticationState();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<WebSessionStore>();
        builder.Services.AddHttpClient<ImageGenApiClient>(client => client.BaseAddress = new Uri("http://api"));
        builder.Services.AddHttpClient<AccountClient>(client => client.BaseAddress = new Uri("http://api"));
        builder.Services.AddScoped<QuestEventsConnection>();
        builder.Services.Configure<LiveUpdatesOptions>(builder.Configuration.GetSection("LiveUpdates"));
        builder.Services.AddScoped<AccountState>();
    }

    /// <summary>
    /// What browsers are told about every page (through <see cref="SecurityHeaders"/>): scripts, styles and connections
    /// only from this origin (styles may be inline attributes, which the progress bar uses; images may be data URIs, which
    /// placeholders are), never in a frame, no sniffing of content types, and no full URLs in the Referer header sent elsewhere.
    /// </summary>
    public static IApplicationBuilder UseWebSecurityHeaders(this WebApplication app)
    {
        // With an object store, image links point at the bucket's own address: the one other origin images come from.
        var store = app.Configuration.GetSection(ImageStoreOptions.Section).Get<ImageStoreOptions>() ?? new ImageStoreOptions();
        var imageOrigin = store.UsesObjectStore ? " " + store.S3.Links().Origin.GetLeftPart(UriPartial.Authority) : "";
        var policy = $"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:{imageOrigin}; "
            + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
        return app.UseSecurityHeaders(_ => policy);
    }
}
