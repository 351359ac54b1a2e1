using ImageGen.Core.Catalog;
using ImageGen.Core.Providers;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ImageGen.Worker.Providers;

/// <summary>
/// One health check per external provider, shown in the dashboard's health details of each worker: Degraded while
/// the provider's circuit is open or probing (the worker itself still serves the other models).
/// </summary>
internal sealed class ProviderHealthCheck(ProviderRouter router, ModelProvider provider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(router.CircuitOf(provider) switch
        {
            CircuitState.Closed => HealthCheckResult.Healthy($"{provider}: circuit closed."),
            var state => HealthCheckResult.Degraded($"{provider}: circuit {state}; calls fail fast until a probe succeeds."),
        });
}
