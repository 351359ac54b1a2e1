using ImageGen.Core.Quests;

namespace ImageGen.Core.Webhooks;

/// <summary>Which moments of a quest are sent to its webhook (a filter; stored as a bit set).</summary>
[Flags]
public enum WebhookEvents
{
    None = 0,

    /// <summary>A worker began the quest (once, on its first run).</summary>
    Started = 1,

    /// <summary>The quest moved on (each progress step the worker records).</summary>
    Progress = 2,

    /// <summary>The quest ended: succeeded, failed, cancelled or timed out.</summary>
    Completed = 4,
}

/// <summary>The names clients use for the filter and for the event types delivered.</summary>
public static class WebhookEventNames
{
    /// <summary>What a quest with a webhook and no filter is sent: its ending only.</summary>
    public const WebhookEvents Default = WebhookEvents.Completed;

    public static readonly IReadOnlyList<string> FilterNames = ["started", "progress", "completed"];

    public const string Started = "quest.started";
    public const string Progress = "quest.progress";

    /// <summary>The event type of an ending: <c>quest.succeeded</c>, <c>quest.failed</c>, <c>quest.cancelled</c>, <c>quest.timed_out</c>.</summary>
    public static string Ended(QuestStatus status) => status switch
    {
        QuestStatus.Succeeded => "quest.succeeded",
        QuestStatus.Failed => "quest.failed",
        QuestStatus.Cancelled => "quest.cancelled",
        QuestStatus.TimedOut => "quest.timed_out",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not an ending."),
    };

    /// <summary>The filter named by <paramref name="names"/> (null: the default); false with the first unknown name.</summary>
    public static bool TryParse(IReadOnlyCollection<string>? names, out WebhookEvents events, out string? unknown)
    {
        unknown = null;
        events = names is null ? Default : WebhookEvents.None;
        foreach (var name in names ?? [])
        {
            var one = name?.Trim().ToLowerInvariant() switch
            {
                "started" => WebhookEvents.Started,
                "progress" => WebhookEvents.Progress,
                "completed" => WebhookEvents.Completed,
                _ => WebhookEvents.None,
            };
            if (one == WebhookEvents.None)
            {
                unknown = name ?? "";
                return false;
            }

            events |= one;
        }

        // An empty list asks for nothing, which is not a webhook: said as an unknown (empty) name.
        if (events == WebhookEvents.None)
        {
            unknown = "";
            return false;
        }

        return true;
    }

    public static IReadOnlyList<string> Names(WebhookEvents events) =>
        [.. FilterNames.Where((_, i) => events.HasFlag((WebhookEvents)(1 << i)))];
}

public static class WebhookLimits
{
    public const int MaxUrlLength = 2048;
    public const int MaxErrorLength = 300;
}
