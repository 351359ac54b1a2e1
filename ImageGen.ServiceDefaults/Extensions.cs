using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ImageGen.ServiceDefaults;
using Polly;

namespace Microsoft.Extensions.Hosting;

/// <summary>What every ImageGen service shares: telemetry, health, service discovery, resilience and ProblemDetails.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>The meter and activity source name every ImageGen service reports under.</summary>
    public const string TelemetryName = "ImageGen";

    private const string HealthPath = "/health";
    private const string AlivePath = "/alive";
    private const string LiveTag = "live";

    /// <summary>Adds OpenTelemetry, default health checks, service discovery, standard HTTP resilience and ProblemDetails.</summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureQuietFrameworkLogs();
        builder.ConfigureOpenTelemetry();
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<ImageGen.ServiceDefaults.Telemetry.ImageGenMetrics>();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler(o =>
            {
                // A POST (or PATCH) that carries no Idempotency-Key is never sent twice: a retry after a timeout could
                // make a second quest, a second grant. Safe methods and keyed requests are retried as usual.
                var transient = o.Retry.ShouldHandle;
                o.Retry.ShouldHandle = args => args.Context.GetRequestMessage() is { } request && !HttpRetryRules.IsRetrySafe(request)
                    ? ValueTask.FromResult(false)
                    : transient(args);
            });
            http.AddServiceDiscovery();
        });
        // Every problem carries a stable code, even those the framework writes (404 on an unknown route, 415, 405).
        // Under /v1 the same problems go out in OpenAI's error envelope (registered first: the first writer that can, writes).
        builder.Services.AddSingleton<IProblemDetailsWriter, OpenAiErrorWriter>();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var (code, detail) = DefaultProblem(problem.Status ?? context.HttpContext.Response.StatusCode);
            problem.Extensions.TryAdd("code", code);
            problem.Detail ??= detail;
        });
        builder.Services.AddRequestTimeouts();
        builder.Services.AddOptions<ClientAddressOptions>().BindConfiguration(ClientAddressOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    private static (string Code, string Detail) DefaultProblem(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ("bad_request", "The request could not be read."),
        StatusCodes.Status401Unauthorized => ("unauthorized", "Sign in, or send a valid bearer token or API key."),
        StatusCodes.Status403Forbidden => ("forbidden", "You may not do this."),
        StatusCodes.Status404NotFound => ("not_found", "There is nothing at this address."),
        StatusCodes.Status405MethodNotAllowed => ("method_not_allowed", "This address does not take that HTTP method."),
        StatusCodes.Status413PayloadTooLarge => ("payload_too_large", "The request body is too large."),
        StatusCodes.Status415UnsupportedMediaType => ("unsupported_media_type", "Send the body as application/json."),
        StatusCodes.Status429TooManyRequests => ("rate_limited", "Too many requests; wait and try again."),
        StatusCodes.Status503ServiceUnavailable => ("service_unavailable", "The service is briefly unavailable; try again shortly."),
        >= 500 => ("internal_error", "Something went wrong on our side. Try again; if it persists, tell us the trace id."),
        _ => ("error", "The request failed."),
    };

    /// <summary>
    /// The framework's per-request and per-command logs (every SQL command, request start and end, each proxied call)
    /// go to Warning: at Information they cost more CPU than the work they describe, and the product's own stage logs
    /// say what happened. The lowest-precedence source, so appsettings or environment variables can turn them back on
    /// (e.g. <c>Logging__LogLevel__Microsoft.EntityFrameworkCore.Database.Command=Information</c>).
    /// </summary>
    public static TBuilder ConfigureQuietFrameworkLogs<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (builder.Configuration is Microsoft.Extensions.Configuration.IConfigurationBuilder sources)
        {
            sources.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
            {
                InitialData = new Dictionary<string, string?>
                {
                    ["Logging:LogLevel:Default"] = "Information",
                    ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                    ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
                    ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
                    ["Logging:LogLevel:Yarp"] = "Warning",
                    ["Logging:LogLevel:Polly"] = "Warning",
                },
            });
        }

        return builder;
    }

    /// <summary>Sends traces, metrics and logs over OTLP when the AppHost gives an endpoint.</summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            // A replica that restarts keeps its instance name: the process id tells its telemetry from its predecessor's.
            .ConfigureResource(resource => resource.AddAttributes([new KeyValuePair<string, object>("process.pid", Environment.ProcessId)]))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryName))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(TelemetryName)
                // Health probes are noise in the trace list.
                .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                    !context.Request.Path.StartsWithSegments(HealthPath) && !context.Request.Path.StartsWithSegments(AlivePath))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>A liveness check that answers while the process runs; readiness checks are added by each integration.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (every check: ready to serve) and <c>/alive</c> (liveness only) in every environment.
    /// Each has a time limit, so a hung dependency makes the probe fail instead of hang.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        var timeout = TimeSpan.FromSeconds(5);
        app.UseRequestTimeouts();
        app.MapHealthChecks(HealthPath).WithRequestTimeout(timeout);
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) }).WithRequestTimeout(timeout);
        return app;
    }
}
