using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Serialization;

namespace ImageGen.ProviderSimulator;

/// <summary>How a simulated provider misbehaves.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FaultProfile>))]
public enum FaultProfile
{
    /// <summary>Answers correctly.</summary>
    Healthy,

    /// <summary>Every request gets 429 with Retry-After (and OpenAI's x-ratelimit headers).</summary>
    RateLimited,

    /// <summary>A share of requests (half, by default) fail with 500.</summary>
    Flaky,

    /// <summary>Answers correctly, after added latency.</summary>
    Slow,

    /// <summary>Prompts with a moderated word get the provider's moderation answer (BFL: below safety tolerance 4).</summary>
    Moderation,

    /// <summary>Every request gets 503 (maintenance).</summary>
    Outage,

    /// <summary>Accepts the connection and never answers.</summary>
    Hang,

    /// <summary>BFL: polls answer "Task not found", as for an expired id.</summary>
    Expired,

    /// <summary>The account has no credit left: OpenAI's 429 <c>insufficient_quota</c>, BFL's 402.</summary>
    OutOfCredits,
}

public sealed record FaultSettings
{
    public FaultProfile Profile { get; init; } = FaultProfile.Healthy;
    public double FailureRate { get; init; } = 0.5;
    public int LatencyMs { get; init; } = 3000;
    public int RetryAfterSeconds { get; init; } = 1;
    public IReadOnlyList<string> ModeratedWords { get; init; } = ["forbidden", "gore"];
}

/// <summary>The current fault profile of each simulated provider, switchable at run time.</summary>
public sealed class FaultProfiles
{
    public const string OpenAI = "openai";
    public const string Bfl = "bfl";
    public const string Midjourney = "midjourney";

    private readonly ConcurrentDictionary<string, FaultSettings> _settings = new()
    {
        [OpenAI] = new FaultSettings(),
        [Bfl] = new FaultSettings(),
        [Midjourney] = new FaultSettings(),
    };

    public static bool IsProvider(string name) => name is OpenAI or Bfl or Midjourney;

    public FaultSettings Get(string provider) => _settings[provider];

    /// <summary>Per provider, a token cancelled when its settings next change: what a paced job listens to.</summary>
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _changes = new()
    {
        [OpenAI] = new CancellationTokenSource(),
        [Bfl] = new CancellationTokenSource(),
        [Midjourney] = new CancellationTokenSource(),
    };

    public void Set(string provider, FaultSettings settings)
    {
        _settings[provider] = settings;
        CancellationTokenSource previous;
        lock (_changes)
        {
            previous = _changes[provider];
            _changes[provider] = new CancellationTokenSource();
        }

        previous.Cancel();
    }

    public IReadOnlyDictionary<string, FaultSettings> All => _settings;

    public bool FailsNow(string provider) => Random.Shared.NextDouble() < Get(provider).FailureRate;

    /// <summary>
    /// Waits one of a job's <paramref name="steps"/> steps: <paramref name="normal"/>, or under
    /// <see cref="FaultProfile.Slow"/> that profile's latency shared among the steps. The pace follows the profile
    /// while it waits, as a provider's does when it recovers: a job started slow goes on at the normal pace once the
    /// fault is lifted, instead of holding one of the account's active-task slots for the rest of its minute.
    /// </summary>
    public async Task PaceAsync(string provider, TimeSpan normal, int steps, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            // The token before the settings: a change between the two reads cancels the wait at once.
            var changed = _changes[provider].Token;
            var step = Get(provider) is { Profile: FaultProfile.Slow } slow ? TimeSpan.FromMilliseconds(slow.LatencyMs / (double)steps) : normal;
            var left = step - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            using var either = CancellationTokenSource.CreateLinkedTokenSource(changed, cancellationToken);
            try
            {
                await Task.Delay(left, either.Token);
                return;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The profile changed: measure this step again against the new pace.
            }
        }
    }

    public bool IsModerated(string provider, string prompt) =>
        Get(provider) is { Profile: FaultProfile.Moderation } settings
        && settings.ModeratedWords.Any(w => prompt.Contains(w, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Counts what the simulator received, so tests can check how often a client retried, and peaks such as jobs in flight.</summary>
public sealed class SimulatorStats
{
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public void Count(string what) => _counts.AddOrUpdate(what, 1, (_, n) => n + 1);

    /// <summary>Keeps the highest value seen (e.g. jobs in flight at once for an account).</summary>
    public void Peak(string what, int value) => _counts.AddOrUpdate(what, value, (_, n) => Math.Max(n, value));

    public IReadOnlyDictionary<string, int> Snapshot() => new SortedDictionary<string, int>(_counts);

    public void Reset() => _counts.Clear();
}
