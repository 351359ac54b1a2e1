using ImageGen.Data.Queue;
using System.Diagnostics;
using System.Text.Json;
using ImageGen.Core.Catalog;
using ImageGen.Core.Providers;
using ImageGen.Core.Quests;
using ImageGen.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Worker.Providers;

/// <summary>
/// Every provider call goes through here: a concurrency limit per provider account, a circuit breaker per provider,
/// and the one retry loop (exponential backoff with full jitter, honouring Retry-After, capped; only failures the
/// adapter marks safe to retry). Health after each call goes to Redis for the API and the dashboard.
/// </summary>
internal sealed partial class ProviderRouter : IDisposable
{
    private readonly Dictionary<ModelProvider, IImageProvider> _providers;
    private readonly Dictionary<ModelProvider, (AccountSlots Slots, CircuitBreaker Breaker, bool Simulated)> _gates = [];
    private readonly ProviderOptions _options;
    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<ProviderRouter> _logger;

    public ProviderRouter(IEnumerable<IImageProvider> providers, IOptions<ProviderOptions> options, IConnectionMultiplexer redis, TimeProvider time,
        ImageGenMetrics metrics, ILogger<ProviderRouter> logger)
    {
        _providers = providers.ToDictionary(p => p.Provider);
        _options = options.Value;
        _redis = redis;
        _time = time;
        _logger = logger;
        foreach (var (provider, account) in new[]
        {
            (ModelProvider.OpenAI, _options.OpenAI), (ModelProvider.BlackForestLabs, _options.Bfl), (ModelProvider.Midjourney, (ProviderAccountOptions)_options.Midjourney),
        })
        {
            var breaker = new CircuitBreaker(_options.CircuitFailureThreshold, _options.CircuitBreakDuration, time);
            breaker.Changed += (state, local) =>
            {
                LogCircuit(_logger, provider, state);
                metrics.CircuitChanged(provider.ToString().ToLowerInvariant(), CircuitName(state));
                if (local && state is CircuitState.Open or CircuitState.Closed)
                {
                    // Tell the other workers: an outage costs the threshold once, not once per replica, and a probe that got
                    // through closes the circuit everywhere (else another worker's stale open circuit fails the next quest).
                    var news = state == CircuitState.Open ? _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) : "closed";
                    _ = _redis.GetSubscriber().PublishAsync(RedisChannel.Literal(CircuitChannel), $"{provider}|{news}", CommandFlags.FireAndForget);
                }
            };
            _gates[provider] = (new AccountSlots(provider.ToString(), account.MaxConcurrency, redis, _options.SlotLease, time, logger), breaker, account.Simulated);
        }

        _redis.GetSubscriber().Subscribe(RedisChannel.Literal(CircuitChannel), (_, message) =>
        {
            var parts = message.ToString().Split('|');
            if (parts.Length == 2 && Enum.TryParse<ModelProvider>(parts[0], out var provider) && _gates.TryGetValue(provider, out var gate))
            {
                if (parts[1] == "closed")
                {
                    gate.Breaker.Close();
                }
                else if (long.TryParse(parts[1], out var at))
                {
                    gate.Breaker.Trip(DateTimeOffset.FromUnixTimeMilliseconds(at));
                }
            }
        });
    }

    /// <summary>Pub/sub channel on which a worker announces a circuit it opened.</summary>
    private const string CircuitChannel = "providers:circuit";

    public CircuitState CircuitOf(ModelProvider provider) => _gates.TryGetValue(provider, out var gate) ? gate.Breaker.State : CircuitState.Closed;

    public async Task<ProviderResult> GenerateAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var provider = _providers[request.Model.Provider];
        var sent = provider.Describe(request);
        if (!_gates.TryGetValue(provider.Provider, out var gate))
        {
            var began = Stopwatch.GetTimestamp();
            try
            {
                var rendered = await provider.GenerateAsync(request, cancellationToken);
                request.OnCall(new ProviderCall(1, Stopwatch.GetElapsedTime(began), null, null, null, "none", null, sent));
                return rendered;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                request.OnCall(new ProviderCall(1, Stopwatch.GetElapsedTime(began), null, ErrorCodes.RenderFailed, e.Message, "none", null, sent));
                throw;
            }
        }

        var slot = await gate.Slots.TakeAsync(
            () => request.OnProgress(0, $"Waiting for a free slot at {request.Model.DisplayName}...", cancellationToken).AsTask(), cancellationToken);
        Task? leftRunning = null;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                if (!gate.Breaker.TryAcquire())
                {
                    request.OnCall(new ProviderCall(attempt, TimeSpan.Zero, null, ErrorCodes.ProviderUnavailable, "Not sent: the circuit is open.", "open", null, sent));
                    throw new ProviderException(ProviderFailure.Unavailable,
                        $"{request.Model.DisplayName} is failing right now, so ImageGen is not sending it more work for a while. Try again in a minute, or choose another model.",
                        retryable: false) { NotSent = true };
                }

                var started = Stopwatch.GetTimestamp();
                try
                {
                    var result = await provider.GenerateAsync(request, cancellationToken);
                    gate.Breaker.RecordSuccess();
                    await ResetFailuresAsync(provider.Provider);
                    request.OnCall(new ProviderCall(attempt, Stopwatch.GetElapsedTime(started), 200, null, null, CircuitName(gate.Breaker.State), null, sent));
                    await ReportAsync(provider.Provider, gate, started, null);
                    return result;
                }
                catch (ProviderException e)
                {
                    // Only an unreachable or failing provider counts against its circuit; a refusal means it is up.
                    if (e.Failure is ProviderFailure.Unavailable or ProviderFailure.Timeout)
                    {
                        gate.Breaker.RecordFailure(await CountFailureAsync(provider.Provider));
                    }
                    else
                    {
                        gate.Breaker.RecordSuccess();
                        await ResetFailuresAsync(provider.Provider);
                    }

                    await ReportAsync(provider.Provider, gate, started, e);
                    var retry = e.Retryable && attempt < _options.MaxAttempts;
                    var delay = retry ? Backoff(attempt, e.RetryAfter) : (TimeSpan?)null;
                    request.OnCall(new ProviderCall(attempt, Stopwatch.GetElapsedTime(started), e.StatusCode, e.ErrorCode, e.Message,
                        CircuitName(gate.Breaker.State), delay, sent));
                    if (delay is null)
                    {
                        throw;
                    }

                    await request.OnProgress(0, $"{request.Model.DisplayName} is busy ({e.ErrorCode}); trying again in {Math.Ceiling(delay.Value.TotalSeconds)} s...", cancellationToken);
                    await Task.Delay(delay.Value, _time, cancellationToken);
                }
                catch (OperationCanceledException e)
                {
                    gate.Breaker.RecordNeutral();
                    leftRunning = (e as ProviderJobLeftRunning)?.Ended;
                    throw;
                }
            }
        }
        finally
        {
            if (leftRunning is null)
            {
                gate.Slots.Return(slot);
            }
            else
            {
                LogSlotHeld(_logger, provider.Provider, request.QuestId);
                var held = Stopwatch.GetTimestamp();
                gate.Slots.ReturnWhen(slot, leftRunning, () => LogSlotFreed(_logger, provider.Provider, request.QuestId, Stopwatch.GetElapsedTime(held).TotalSeconds));
            }
        }
    }

    public void Dispose()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Slots.Dispose();
        }
    }

    /// <summary>The provider's failures in a row across every worker, this one included (Redis); null when Redis cannot say.</summary>
    private async Task<long?> CountFailureAsync(ModelProvider provider)
    {
        try
        {
            var db = _redis.GetDatabase();
            var key = FailuresKey(provider);
            var failures = await db.StringIncrementAsync(key);
            await db.KeyExpireAsync(key, FailureMemory, CommandFlags.FireAndForget);
            return failures;
        }
        catch (Exception e) when (RedisFaults.IsOutage(e))
        {
            LogHealthNotSaved(_logger, provider, e);
            return null;
        }
    }

    private async Task ResetFailuresAsync(ModelProvider provider)
    {
        try
        {
            await _redis.GetDatabase().KeyDeleteAsync(FailuresKey(provider), CommandFlags.FireAndForget);
        }
        catch (Exception e) when (RedisFaults.IsOutage(e))
        {
            LogHealthNotSaved(_logger, provider, e);
        }
    }

    /// <summary>A run of failures older than this is forgotten (a provider that failed once a day never opens).</summary>
    private static readonly TimeSpan FailureMemory = TimeSpan.FromMinutes(5);

    private static RedisKey FailuresKey(ModelProvider provider) => $"providers:failures:{provider}";

    private static string CircuitName(CircuitState state) => state switch
    {
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "closed",
    };

    /// <summary>Retry-After when the provider sent one, else exponential backoff with full jitter; capped either way.</summary>
    private TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var cap = _options.MaxDelay;
        if (retryAfter is { } wait)
        {
            return wait < cap ? wait : cap;
        }

        var ceiling = Math.Min(cap.TotalMilliseconds, _options.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    private async Task ReportAsync(ModelProvider provider, (AccountSlots Slots, CircuitBreaker Breaker, bool Simulated) gate, long started, ProviderException? failure)
    {
        var health = new ProviderHealthDto
        {
            Provider = provider,
            Status = gate.Breaker.State != CircuitState.Closed ? "circuit_open"
                : failure?.Failure is ProviderFailure.Unavailable or ProviderFailure.Timeout or ProviderFailure.RateLimited ? "degraded"
                : "healthy",
            Circuit = gate.Breaker.State,
            LastLatencyMs = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            LastErrorCode = failure?.ErrorCode,
            UpdatedAt = _time.GetUtcNow(),
            Simulated = gate.Simulated,
        };
        try
        {
            await _redis.GetDatabase().HashSetAsync(ProviderHealthDto.RedisKey, provider.ToString(), JsonSerializer.Serialize(health, ProviderHealthDto.SerializerOptions));
        }
        catch (Exception e) when (RedisFaults.IsOutage(e))
        {
            LogHealthNotSaved(_logger, provider, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit of {Provider} is now {State}")]
    private static partial void LogCircuit(ILogger logger, ModelProvider provider, CircuitState state);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} runs the job of quest {QuestId} on after it was stopped here; its slot stays taken until the job ends there")]
    private static partial void LogSlotHeld(ILogger logger, ModelProvider provider, Guid questId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} ended the job of quest {QuestId} (or stopped saying); its slot is free again after {Seconds:0.0} s")]
    private static partial void LogSlotFreed(ILogger logger, ModelProvider provider, Guid questId, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not save the health of {Provider}")]
    private static partial void LogHealthNotSaved(ILogger logger, ModelProvider provider, Exception exception);
}
