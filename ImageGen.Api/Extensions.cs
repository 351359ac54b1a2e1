using ImageGen.Core.Catalog;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageGen.Api.Apis;
using ImageGen.Api.Auth;
using ImageGen.Api.Images;
using ImageGen.Api.Limits;
using ImageGen.Api.Mail;
using ImageGen.Api.Problems;
using ImageGen.Api.Services;
using ImageGen.Data.Queue;
using ImageGen.Core.Accounts;
using ImageGen.Data;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImageGen.Api;

internal static class Extensions
{
    /// <summary>Registers the API's own services: data, accounts, queue, events, images, JSON and error handling.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // The model catalog with the operator's override: a bad one stops the service here, naming the entry and field.
        builder.Services.AddSingleton(ModelCatalog.FromSettings(key => builder.Configuration[key]));
        builder.AddImageGenDatabase();
        builder.AddSchemaGate();
        builder.AddRedisClient("redis");
        builder.AddAccounts();
        builder.AddLimitPolicies();
        builder.Services.AddSingleton<SignupCap>();
        builder.Services.AddSingleton<MailCap>();
        builder.AddAccountMail();

        builder.AddImageStore();
        builder.Services.AddOptions<ImageSigningOptions>()
            .BindConfiguration(ImageSigningOptions.Section)
            .Validate(o => o.SigningKey.Length >= 16, "ImageGen:Images:SigningKey must be at least 16 characters.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ImageUrlSigner>();
        builder.Services.AddSingleton<VariantCache>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VariantCache>());
        builder.Services.AddSingleton<ImageDelivery>();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<QuestQueue>();
        builder.Services.AddSingleton<QuestEventPublisher>();
        builder.Services.AddSingleton<QuestPreviews>();
        builder.Services.AddScoped<QuestSubmission>();
        builder.Services.AddSingleton<DefaultFallbacks>();
        builder.Services.AddScoped<QuestCancellation>();
        builder.Services.AddScoped<QuestInputs>();
        builder.Services.AddSingleton<QuestWaiters>();
        builder.Services.AddApiReference();
        builder.Services.AddOptions<OpenAiCompatOptions>().BindConfiguration(OpenAiCompatOptions.Section);
        builder.Services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section);
        builder.Services.AddHostedService<Images.UploadSweeper>();
        builder.Services.AddHostedService<QuestEventForwarder>();
        builder.Services.AddOptions<Operations.AlertOptions>().BindConfiguration(Operations.AlertOptions.Section);
        builder.Services.AddSingleton<Operations.AlertNotifier>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Operations.AlertNotifier>());
        builder.Services.AddHostedService<Operations.AlertEvaluator>();
        builder.Services.AddSingleton<Hubs.HubCallLimits>();
        builder.Services.AddSignalR(o => Microsoft.AspNetCore.SignalR.HubOptionsExtensions.AddFilter<Hubs.HubCallLimits>(o)).AddJsonProtocol(o => ConfigureJson(o.PayloadSerializerOptions));
        builder.Services.AddWebhookDelivery();

        builder.Services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        // Binding failures (malformed JSON, wrong types) throw, so ApiExceptionHandler can name the field at fault.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
    }

    // RemoveAllResilienceHandlers is marked experimental; the alternative is the standard handler's retries inside ours.
#pragma warning disable EXTEXP0001

    /// <summary>
    /// Webhooks: the outbox dispatcher and its HTTP client, which dials only allowed addresses, follows no redirect,
    /// goes through no proxy and retries nothing itself (the outbox's schedule is the one retry loop).
    /// </summary>
    internal static IServiceCollection AddWebhookDelivery(this IServiceCollection services)
    {
        services.AddOptions<Webhooks.WebhookOptions>().BindConfiguration(Webhooks.WebhookOptions.Section);
        services.AddSingleton<Webhooks.WebhookAddressPolicy>();
        services.AddScoped<Webhooks.QuestWebhooks>();
        services.AddScoped<Data.Webhooks.WebhookOutbox>();
        // The outbox records each attempt on the quest's timeline through the transitions.
        services.TryAddScoped<Data.Quests.QuestTransitions>();
        services.AddHttpClient(Webhooks.WebhookDispatcher.HttpClientName).RemoveAllResilienceHandlers()
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                ConnectCallback = sp.GetRequiredService<Webhooks.WebhookAddressPolicy>().ConnectAsync,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            })
            .ConfigureHttpClient(c =>
            {
                c.Timeout = Timeout.InfiniteTimeSpan;
                c.DefaultRequestHeaders.UserAgent.ParseAdd("ImageGen-Webhooks/1.0");
            });
        services.AddSingleton<Webhooks.WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<Webhooks.WebhookDispatcher>());
        return services;
    }
#pragma warning restore EXTEXP0001

    /// <summary>
    /// Identity (users, roles, lockout) with bearer tokens, personal API keys, and the admin policy. Token keys live in
    /// Postgres so every API instance accepts every token.
    /// </summary>
    private static void AddAccounts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SessionGuard>();
        builder.Services.AddSingleton<SignInThrottle>();
        builder.Services.AddScoped<PasswordConfirmation>();
        builder.Services.AddOptions<RecentSignInOptions>().BindConfiguration(RecentSignInOptions.Section);
        builder.Services.AddSingleton<Hubs.HubSessions>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Hubs.HubSessions>());
        builder.Services.AddSingleton<Hubs.LiveUpdatesPause>();
        builder.Services.AddSingleton<Services.QuestThroughput>();
        builder.Services.AddSingleton<Services.WaitingQueueCache>();
        builder.Services.AddSingleton<Services.QuestSnapshots>();
        builder.Services.AddOptions<CreditOptions>().BindConfiguration(CreditOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddImageGenIdentity().AddSignInManager().AddAccountTokens();

        builder.Services.AddImageGenDataProtection();

        builder.Services.AddAuthentication(AuthSchemes.Default)
            .AddPolicyScheme(AuthSchemes.Default, "Bearer token or API key", o => o.ForwardDefaultSelector = context =>
                ApiKeyFormat.LooksLikeKey(AuthSchemes.BearerCredential(context)) ? AuthSchemes.ApiKey : IdentityConstants.BearerScheme)
            .AddBearerToken(IdentityConstants.BearerScheme, o =>
            {
                // Short-lived access tokens: logging out revokes refresh tokens, and access tokens die soon after.
                o.BearerTokenExpiration = TimeSpan.FromMinutes(15);
                o.RefreshTokenExpiration = TimeSpan.FromDays(14);
                o.Events.OnMessageReceived = context =>
                {
                    if (context.Request.Path.StartsWithSegments("/hubs") && context.Request.Query["access_token"] is { Count: > 0 } token)
                    {
                        context.Token = token.ToString();
                    }

                    return Task.CompletedTask;
                };
            })
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AuthSchemes.ApiKey, null);

        var authorization = builder.Services.AddAuthorizationBuilder()
            // An admin's key is an admin credential only when it was made with the admin scope.
            .AddPolicy(AuthSchemes.AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin)
                .RequireAssertion(c => c.User.Allows(ApiKeyScopes.Admin)))
            .AddPolicy(AuthSchemes.SessionPolicy, p => p.RequireAuthenticatedUser().RequireAssertion(c => !c.User.IsApiKey()));
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ScopeAwareForbidden>();
        foreach (var scope in ApiKeyScopes.All)
        {
            authorization.AddPolicy(AuthSchemes.ScopePolicy(scope), p => p.RequireAuthenticatedUser().RequireAssertion(c => c.User.Allows(scope)));
        }
    }

    private static void ConfigureJson(JsonSerializerOptions options)
    {
        // "width": "512" is a wrong type, not a number: the web defaults would accept it.
        options.NumberHandling = JsonNumberHandling.Strict;
        options.Converters.Add(new JsonStringEnumConverter());
    }
}

/// <summary>Credit settings, bound from the <c>Credits</c> section.</summary>
internal sealed class CreditOptions
{
    public const string Section = "Credits";

    /// <summary>What a new account starts with.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, CreditLimits.MaxAdminAmount)]
    public int StartingGrant { get; set; } = 100;
}

internal static class SessionGuardExtensions
{
    /// <summary>
    /// After authentication: a bearer token whose session was revoked, or whose account's security stamp changed since it
    /// was issued (logout, password change), counts as no credential at all, at once rather than when it expires.
    /// </summary>
    public static IApplicationBuilder UseSessionGuard(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (context.User.Identity?.IsAuthenticated == true
                && !await context.RequestServices.GetRequiredService<SessionGuard>().IsCurrentAsync(context.User))
            {
                context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity());
            }

            await next(context);
        });
}
