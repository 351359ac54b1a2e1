using System.Net.Http.Json;

namespace ImageGen.AppHost;

/// <summary>
/// Points the workers' provider adapters at the real providers when a key is configured
/// (<c>Parameters:openai-api-key</c>, <c>Parameters:bfl-api-key</c>), and at the provider simulator otherwise.
/// The adapters are the same either way.
/// </summary>
internal static class ProviderWiring
{
    private static readonly string[] Profiles = ["Healthy", "RateLimited", "Flaky", "Slow", "Moderation", "Outage", "Expired"];

    public static IResourceBuilder<ProjectResource> AddProviderSimulator(this IDistributedApplicationBuilder builder)
    {
        var sim = builder.AddProject<Projects.ImageGen_ProviderSimulator>("provider-sim")
            .WithHttpEndpoint()
            .WithHttpHealthCheck("/health");

        // Dashboard buttons to switch a simulated provider's behaviour while the app runs.
        foreach (var (provider, label) in new[] { ("openai", "OpenAI"), ("bfl", "BFL"), ("midjourney", "Midjourney") })
        {
            foreach (var profile in Profiles.Where(p => provider == "bfl" || p != "Expired"))
            {
                sim.WithCommand($"fault-{provider}-{profile.ToLowerInvariant()}", $"{label}: {profile}", async context =>
                {
                    using var http = new HttpClient { BaseAddress = new Uri(sim.GetEndpoint("http").Url) };
                    using var response = await http.PutAsJsonAsync($"/admin/faults/{provider}", new { profile }, context.CancellationToken);
                    return response.IsSuccessStatusCode
                        ? CommandResults.Success()
                        : CommandResults.Failure($"The simulator answered {(int)response.StatusCode}.");
                }, new CommandOptions { Description = $"Make the simulated {label} answer as '{profile}'.", IconName = "Warning" });
            }
        }

        return sim;
    }

    /// <summary>
    /// A provider account's limit on jobs in flight (BFL: 24, OpenAI: 8, Midjourney: 3 by default;
    /// <c>ImageGen:ProviderAccounts:*</c>), the same for every worker: the workers count their slots together in Redis,
    /// so the account's limit holds however many run, and excess work waits in our queue rather than in the provider's 429s.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithProviderAccountLimits(this IResourceBuilder<ProjectResource> worker, IConfiguration configuration)
    {
        foreach (var (section, accountLimit) in new[] { ("Bfl", 24), ("OpenAI", 8), ("Midjourney", 3) })
        {
            var limit = configuration.GetValue($"ImageGen:ProviderAccounts:{section}:MaxConcurrency", accountLimit);
            worker.WithEnvironment($"Providers__{section}__MaxConcurrency", limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (configuration["ImageGen:ProviderAccounts:SlotLease"] is { } lease)
        {
            worker.WithEnvironment("Providers__SlotLease", lease);
        }

        return worker;
    }

    public static IResourceBuilder<ProjectResource> WithProviders(this IResourceBuilder<ProjectResource> worker, IResourceBuilder<ProjectResource> sim)
    {
        var builder = worker.ApplicationBuilder;
        var usesSimulator = false;
        foreach (var (section, keyName, realEndpoint, simPath) in new[]
        {
            ("OpenAI", "openai-api-key", "https://api.openai.com/v1", "/v1"),
            ("Bfl", "bfl-api-key", "https://api.bfl.ai", ""),
        })
        {
            if (!string.IsNullOrEmpty(builder.Configuration[$"Parameters:{keyName}"]))
            {
                var key = builder.AddParameter(keyName, secret: true);
                worker.WithEnvironment($"Providers__{section}__Endpoint", builder.Configuration[$"ImageGen:Providers:{section}:Endpoint"] ?? realEndpoint)
                    .WithEnvironment($"Providers__{section}__ApiKey", key);
            }
            else
            {
                usesSimulator = true;
                worker.WithEnvironment($"Providers__{section}__Endpoint", ReferenceExpression.Create($"{sim.GetEndpoint("http")}{simPath}"))
                    .WithEnvironment($"Providers__{section}__ApiKey", $"simulator-{section.ToLowerInvariant()}-key")
                    .WithEnvironment($"Providers__{section}__Simulated", "true");
            }
        }

        // Midjourney has no API of its own: a midjourney-proxy service stands in, at the URL and secret given
        // (Parameters:midjourney-proxy-url, Parameters:midjourney-proxy-secret), or the simulator's.
        if (builder.Configuration["Parameters:midjourney-proxy-url"] is { Length: > 0 } proxyUrl)
        {
            var secret = builder.AddParameter("midjourney-proxy-secret", secret: true);
            worker.WithEnvironment("Providers__Midjourney__Endpoint", proxyUrl).WithEnvironment("Providers__Midjourney__ApiKey", secret);
        }
        else
        {
            usesSimulator = true;
            worker.WithEnvironment("Providers__Midjourney__Endpoint", sim.GetEndpoint("http"))
                .WithEnvironment("Providers__Midjourney__ApiKey", "simulator-midjourney-key")
                .WithEnvironment("Providers__Midjourney__Simulated", "true");
        }

        return usesSimulator ? worker.WaitFor(sim) : worker;
    }
}
