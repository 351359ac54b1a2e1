using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using ImageGen.Core.Catalog;
using ImageGen.Core.Providers;
using ImageGen.Core.Quests;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Worker.Providers;

/// <summary>
/// Asks each provider whether it answers, at start and then every <see cref="ProviderOptions.ProbeInterval"/>, with a
/// call that costs nothing and proves the address and the key (OpenAI's model list, BFL's credit balance, kept for the
/// monitoring page, midjourney-proxy's queue of waiting tasks; never a generation), so the monitoring page knows a
/// provider's health before the first quest. One worker probes at a time (a Redis lease).
/// </summary>
internal sealed partial class ProviderProbe(
    IHttpClientFactory clients, ProviderRouter router, IOptions<ProviderOptions> options, IConnectionMultiplexer redis, TimeProvider time,
    ILogger<ProviderProbe> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.ProbeInterval, time);
        try
        {
            do
            {
                try
                {
                    if (await redis.GetDatabase().StringSetAsync("providers:probe-lease", Environment.ProcessId, settings.ProbeInterval / 2, When.NotExists))
                    {
                        await ProbeAsync(ModelProvider.OpenAI, settings.OpenAI, OpenAIImageProvider.HttpClientName, "models",
                            (request, key) => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key), stoppingToken);
                        await ProbeAsync(ModelProvider.BlackForestLabs, settings.Bfl, BflImageProvider.HttpClientName, "v1/credits",
                            (request, key) => request.Headers.Add("x-key", key), stoppingToken);
                        await ProbeAsync(ModelProvider.Midjourney, settings.Midjourney, MidjourneyImageProvider.HttpClientName, "mj/task/queue",
                            (request, key) => request.Headers.Add("mj-api-secret", key), stoppingToken);
                    }
                }
                catch (Exception e) when (e is RedisException or HttpRequestException)
                {
                    LogProbeFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProbeAsync(ModelProvider provider, ProviderAccountOptions account, string clientName, string path,
        Action<HttpRequestMessage, string> authorize, CancellationToken cancellationToken)
    {
        if (account.Endpoint is not { } endpoint)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        string status;
        string? code = null;
        decimal? balance = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + path));
            authorize(request, account.ApiKey ?? "");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await clients.CreateClient(clientName).SendAsync(request, timeout.Token);
            (status, code) = (int)response.StatusCode switch
            {
                >= 200 and < 300 => ("healthy", null),
                401 or 403 => ("unavailable", "provider_rejected"),
                402 => ("unavailable", ErrorCodes.ProviderAccountExhausted),
                _ => ("degraded", "provider_unavailable"),
            };
            if (provider == ModelProvider.BlackForestLabs && response.IsSuccessStatusCode)
            {
                balance = await CreditsAsync(response, timeout.Token);
                if (balance <= 0)
                {
                    (status, code) = ("unavailable", ErrorCodes.ProviderAccountExhausted);
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            (status, code) = ("degraded", "provider_unavailable");
        }

        // While a circuit is open, the calls that opened it (and its probe) say how the provider is: leave their record.
        if (router.CircuitOf(provider) != CircuitState.Closed)
        {
            return;
        }

        var health = new ProviderHealthDto
        {
            Provider = provider,
            Status = status,
            Circuit = CircuitState.Closed,
            LastLatencyMs = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            LastErrorCode = code,
            UpdatedAt = time.GetUtcNow(),
            Simulated = account.Simulated,
            Note = code switch
            {
                "provider_rejected" => "The provider refused the API key.",
                ErrorCodes.ProviderAccountExhausted => "The provider account has no credits left: top it up.",
                _ => null,
            },
            Balance = balance,
        };
        await redis.GetDatabase().HashSetAsync(ProviderHealthDto.RedisKey, provider.ToString(), JsonSerializer.Serialize(health, ProviderHealthDto.SerializerOptions));
    }

    /// <summary>BFL's balance answer, <c>{"credits": 123.4}</c>; null when it says something else.</summary>
    private static async Task<decimal?> CreditsAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("credits", out var credits)
                && credits.TryGetDecimal(out var value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A provider health probe could not run")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception);
}
