namespace ImageGen.Data.Entities;

/// <summary>
/// An alert condition that fired, and when it resolved. At most one alert per <see cref="Key"/> is active
/// (<see cref="ResolvedAt"/> null) at a time.
/// </summary>
public sealed class Alert
{
    public long Id { get; set; }

    /// <summary>The condition and its subject, e.g. <c>success_rate:openai</c> or <c>credit_spend:{userId}</c>.</summary>
    public required string Key { get; set; }

    /// <summary>See <see cref="ImageGen.Core.Operations.AlertKinds"/>.</summary>
    public required string Kind { get; set; }
    public required string Message { get; set; }

    /// <summary>The measured value when it fired (then the latest while active) and the threshold it crossed.</summary>
    public double Value { get; set; }
    public double Threshold { get; set; }
    public DateTimeOffset FiredAt { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
}
