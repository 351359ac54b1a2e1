using System.Collections.Concurrent;
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

    public void Set(string provider, FaultSettings settings) => _settings[provider] = settings;

    public IReadOnlyDictionary<string, FaultSettings> All => _settings;

    public bool FailsNow(string provider) => Random.Shared.NextDouble() < Get(provider).FailureRate;

    public bool IsModerated(string provider, string prompt) =>
        Get(provider) is { Profile: FaultProfile.Moderation } settings
        && settings.ModeratedWords.Any(w => prompt.Contains(w, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Counts what the simulator received, so tests can check how often a client retried.</summary>
public sealed class SimulatorStats
{
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public void Count(string what) => _counts.AddOrUpdate(what, 1, (_, n) => n + 1);

    public IReadOnlyDictionary<string, int> Snapshot() => new SortedDictionary<string, int>(_counts);

    public void Reset() => _counts.Clear();
}
