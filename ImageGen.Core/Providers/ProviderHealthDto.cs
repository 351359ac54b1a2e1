using System.Text.Json;
using System.Text.Json.Serialization;
using ImageGen.Core.Catalog;

namespace ImageGen.Core.Providers;

/// <summary>A provider's circuit: closed (calls go through), open (failing fast), half-open (one probe allowed).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CircuitState>))]
public enum CircuitState
{
    Closed,
    Open,
    HalfOpen,
}

/// <summary>What people and operators see of a provider: healthy, degraded, circuit_open, unavailable, or unknown.</summary>
public sealed record ProviderHealthDto
{
    public required ModelProvider Provider { get; init; }

    /// <summary>healthy | degraded | circuit_open | unavailable | unknown.</summary>
    public required string Status { get; init; }
    public CircuitState Circuit { get; init; }
    public int? LastLatencyMs { get; init; }
    public string? LastErrorCode { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>True when the adapter talks to the provider simulator (no key configured).</summary>
    public bool Simulated { get; init; }
    public string? Note { get; init; }

    /// <summary>What the provider account has left, where the provider says (BFL: credits, 1 credit = US$0.01).</summary>
    public decimal? Balance { get; init; }

    public const string RedisKey = "providers:health";

    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.Web);
}
