using System.Globalization;
using System.Net;

namespace ImageGen.Api.Webhooks;

/// <summary>How webhooks are sent (section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// The waits between attempts, comma-separated: after the first attempt fails, the next comes after the first wait,
    /// and so on; after the last, the delivery is given up. The default spreads 8 attempts over about 68 minutes.
    /// </summary>
    public string RetryDelays { get; set; } = "00:00:05,00:00:30,00:02:00,00:05:00,00:10:00,00:20:00,00:30:00";

    /// <summary>How long one attempt may take, connect to last byte of the answer's headers.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often each API instance looks for deliveries that are due when nothing wakes it: a quest event wakes it at
    /// once, so this paces retries only (the first wait is 5 s), and an idle instance does not query every second.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Deliveries sent at once by one API instance.</summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>
    /// Networks a webhook may reach although they are not public (CIDR, comma-separated), for development and tests
    /// only, e.g. <c>127.0.0.1/32</c>. Empty in production: loopback, private, link-local and other special addresses
    /// are refused.
    /// </summary>
    public string AllowedNetworks { get; set; } = "";

    /// <summary>How long the delivery log keeps an event that ended (delivered or given up).</summary>
    public TimeSpan KeepFor { get; set; } = TimeSpan.FromDays(30);

    /// <summary>After a rotation, how long the previous secret signs beside the new one.</summary>
    public TimeSpan SecretOverlap { get; set; } = TimeSpan.FromHours(24);

    public IReadOnlyList<TimeSpan> Delays() =>
        [.. RetryDelays.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => TimeSpan.Parse(d, CultureInfo.InvariantCulture))];

    public IReadOnlyList<IPNetwork> Networks() =>
        [.. AllowedNetworks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => IPNetwork.Parse(n))];
}
