namespace ImageGen.Core.Webhooks;

/// <summary>
/// The account's webhook settings. The secret itself is shown only when made: in <see cref="NewSecret"/> of the answer
/// that made it (the first settings saved), or by a rotation (<see cref="WebhookSecretDto"/>).
/// </summary>
public sealed record WebhookSettingsDto(string? Url, IReadOnlyList<string> Events, bool HasSecret, string? SecretEndsWith, DateTimeOffset? SecretRotatedAt)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? NewSecret { get; init; }
}

/// <summary>Sets the default endpoint (null or empty: none) and its event filter (null: <c>completed</c>).</summary>
/// <summary>The account's default webhook; <paramref name="CurrentPassword"/> when the session signed in more than 5 minutes ago.</summary>
public sealed record UpdateWebhookRequest(string? Url, IReadOnlyList<string>? Events, string? CurrentPassword = null) : ImageGen.Core.Accounts.IConfirmsPassword;

/// <summary>A secret rotation's body, needed only when the session signed in more than 5 minutes ago.</summary>
public sealed record RotateWebhookSecretRequest(string? CurrentPassword) : ImageGen.Core.Accounts.IConfirmsPassword;

/// <summary>A new signing secret, shown in this answer only. After a rotation the previous one signs beside it until <see cref="PreviousValidUntil"/>.</summary>
public sealed record WebhookSecretDto(string Secret, DateTimeOffset? PreviousValidUntil);

/// <summary>One event sent (or being sent) to a webhook, with every attempt.</summary>
public sealed record WebhookDeliveryDto(
    string Id, Guid QuestId, string Type, string Url, string State, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt, int? LastStatusCode, string? LastError, IReadOnlyList<WebhookAttemptDto> AttemptLog);

/// <summary>One attempt: when, the receiver's status (null: no answer), why it failed, how long it took.</summary>
public sealed record WebhookAttemptDto(DateTimeOffset At, int? Status, string? Error, int Ms);

public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDeliveryDto> Items, string? NextCursor);
