namespace ImageGen.Core.Operations;

/// <summary>The conditions the alert evaluator checks.</summary>
public static class AlertKinds
{
    /// <summary>A provider's share of finished quests that succeeded fell below the threshold.</summary>
    public const string SuccessRate = "success_rate";

    /// <summary>The share of all finished quests that failed or timed out rose above the threshold.</summary>
    public const string ErrorRate = "error_rate";

    /// <summary>A provider's average generation time rose above the threshold (seconds).</summary>
    public const string GenerationTime = "generation_time";

    /// <summary>The share of hub connections that dropped rose above the threshold.</summary>
    public const string DisconnectRate = "disconnect_rate";

    /// <summary>A user's spend in the last hour is far above their usual hourly spend.</summary>
    public const string CreditSpend = "credit_spend";

    /// <summary>A provider account ran out of credit or quota: its quests fail until someone tops it up.</summary>
    public const string ProviderAccount = "provider_account";
}

public sealed record AlertDto(long Id, string Key, string Kind, string Message, double Value, double Threshold, DateTimeOffset FiredAt, DateTimeOffset? ResolvedAt)
{
    public bool Active => ResolvedAt is null;
}

/// <summary>How one model did over the window: counts by outcome, success rate, and generation time of successes.</summary>
public sealed record ModelStatsDto(string Model, string Provider, int Total, int Succeeded, int Failed, int TimedOut, int Cancelled,
    double? SuccessRate, double? P50Ms, double? P95Ms);

public sealed record ErrorCountDto(string Code, int Count);

/// <summary>Credits moved by kind over the window (reserve and capture are negative: spent).</summary>
public sealed record CreditFlowDto(string Kind, long Amount, int Entries);

/// <summary>Quests that ended in one slice of the window.</summary>
public sealed record StatsBucketDto(DateTimeOffset Start, int Succeeded, int Failed);

/// <summary>The monitoring page's figures for the last hour or day.</summary>
public sealed record OperationsStatsDto(string Window, DateTimeOffset Since, IReadOnlyList<ModelStatsDto> Models, IReadOnlyList<ErrorCountDto> Errors,
    IReadOnlyList<CreditFlowDto> Credits, IReadOnlyList<StatsBucketDto> Series, IReadOnlyList<AlertDto> ActiveAlerts);
