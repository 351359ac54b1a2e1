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

/// <summary>Where alerts are sent.</summary>
public static class AlertChannelKinds
{
    public const string Email = "email";
    public const string Webhook = "webhook";
}

/// <summary>What a message to a channel says happened.</summary>
public static class AlertEvents
{
    public const string Fired = "fired";
    public const string Resolved = "resolved";
    public const string Test = "test";
}

/// <summary>Where a message to a channel stands.</summary>
public static class AlertDeliveryStatus
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Failed = "failed";
}

/// <summary>An alert channel as the admin API shows it (a webhook's secret only once, when it is made).</summary>
public sealed record AlertChannelDto(Guid Id, string Kind, string Target, DateTimeOffset CreatedAt, string? Secret = null);

/// <summary>A channel to add: <c>kind</c> <c>email</c> (target: an address) or <c>webhook</c> (target: an http(s) URL).</summary>
public sealed record CreateAlertChannelRequest(string? Kind, string? Target);

/// <summary>One message to one channel, as the delivery log shows it.</summary>
public sealed record AlertDeliveryDto(Guid Id, Guid ChannelId, string AlertKey, string Event, string Message, string Status, int Attempts, string? LastError,
    DateTimeOffset CreatedAt, DateTimeOffset? SentAt);
