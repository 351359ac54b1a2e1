using System.ComponentModel.DataAnnotations;

namespace ImageGen.Worker.Providers;

/// <summary>One provider account: where it is, its key, and how hard we may use it.</summary>
public class ProviderAccountOptions
{
    /// <summary>Base address (OpenAI: ending in /v1). The AppHost points it at the simulator when no key is set.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The secret. Never logged, traced or returned.</summary>
    public string? ApiKey { get; set; }

    /// <summary>True when the endpoint is the provider simulator.</summary>
    public bool Simulated { get; set; }

    /// <summary>
    /// Calls in flight at once for this account, across every worker (counted in Redis); excess work waits in our
    /// queue, not in the provider's 429s.
    /// </summary>
    [Range(1, 1000)]
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>Longest a single HTTP request may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(90);
}

/// <summary>The BFL account, with the hosts its answers may send us to (see <see cref="BflUrlPolicy"/>).</summary>
public sealed class BflAccountOptions : ProviderAccountOptions
{
    /// <summary>
    /// Hosts (and their subdomains) a polling URL or a result sample may be on, over https. BFL's API and delivery hosts
    /// are all under bfl.ai; add a storage host here if BFL delivers from one.
    /// </summary>
    public List<string> ResultHosts { get; set; } = ["bfl.ai"];

    /// <summary>Hosts the x-key may be sent to, besides the endpoint's own: BFL's API hosts (polling URLs are on them).</summary>
    public List<string> KeyHosts { get; set; } = ["api.bfl.ai", "api.eu.bfl.ai", "api.us.bfl.ai", "api.eu1.bfl.ai", "api.us1.bfl.ai"];
}

/// <summary>A midjourney-proxy service, with the hosts its image links may be on besides its own.</summary>
public sealed class MidjourneyAccountOptions : ProviderAccountOptions
{
    /// <summary>
    /// Hosts (and their subdomains) an image URL in the proxy's answers may be on, over https; the proxy's own host
    /// is always allowed. Proxies usually hand out Discord's CDN links. The secret goes to the proxy's host only.
    /// </summary>
    public List<string> ImageHosts { get; set; } = ["cdn.discordapp.com", "media.discordapp.net"];
}

/// <summary>Retry and circuit settings shared by every provider. Bound from <c>Providers</c>.</summary>
public sealed class ProviderOptions
{
    public const string Section = "Providers";

    public ProviderAccountOptions OpenAI { get; set; } = new();
    public BflAccountOptions Bfl { get; set; } = new() { MaxConcurrency = 24 };

    /// <summary>Midjourney jobs run a few at a time per account (3 on the common plans); more wait in our queue.</summary>
    public MidjourneyAccountOptions Midjourney { get; set; } = new() { MaxConcurrency = 3 };

    /// <summary>
    /// How long a provider slot is held without its worker renewing it (every third of this): a worker that dies gives
    /// its slots back after at most this long.
    /// </summary>
    public TimeSpan SlotLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest body read from a provider (an image, a poll answer): a bigger one is refused, not buffered.</summary>
    [Range(1024, 1L << 32)]
    public long MaxResponseBytes { get; set; } = 64L << 20;

    /// <summary>Largest image (width x height) taken from a provider, checked from its header before anything decodes it.</summary>
    [Range(1, 1_000_000_000)]
    public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>What an image from a provider (a result, a preview frame, a grid) is held to before it is decoded.</summary>
    public Rendering.DecodeLimits ImageLimits => new(MaxResponseBytes, MaxImagePixels);

    /// <summary>Attempts per provider call, the first included, for failures that are safe to retry.</summary>
    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 3;

    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failures (5xx, timeouts) that open a provider's circuit, counted across every worker.</summary>
    [Range(1, 1000)]
    public int CircuitFailureThreshold { get; set; } = 5;

    /// <summary>How long an open circuit fails fast before one probe is let through (the troubleshooting guide's 60 s).</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often one worker asks each provider whether it answers (with a call that costs nothing).</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>BFL polling interval bounds (backs off from the first to the second).</summary>
    public TimeSpan PollMinInterval { get; set; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan PollMaxInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a job the provider runs on after our cancel (BFL, Midjourney: no cancel) keeps its slot at most, asked
    /// after every <see cref="PollMaxInterval"/>; BFL forgets a job's result after about ten minutes.
    /// </summary>
    public TimeSpan LeftRunningWatch { get; set; } = TimeSpan.FromMinutes(10);
}
