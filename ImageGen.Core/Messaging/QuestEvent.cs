using System.Text.Json;
using System.Text.Json.Serialization;
using ImageGen.Core.Quests;

namespace ImageGen.Core.Messaging;

/// <summary>
/// A change in a quest's progress or state, published by a worker and delivered to the quest's subscribers.
/// <see cref="Sequence"/> grows with every event of one quest, so a client can drop stale or repeated ones.
/// </summary>
public sealed record QuestEvent
{
    public required Guid QuestId { get; init; }

    /// <summary>The owner: events go to this user's connections only.</summary>
    public required Guid UserId { get; init; }
    public required long Sequence { get; init; }

    [JsonConverter(typeof(JsonStringEnumConverter<QuestStatus>))]
    public required QuestStatus Status { get; init; }

    public int Step { get; init; }
    public int TotalSteps { get; init; }

    /// <summary>0..1.</summary>
    public double Progress { get; init; }
    public string? StatusText { get; init; }
    public QuestErrorDto? Error { get; init; }

    /// <summary>When the worker published it (for progress latency measurements).</summary>
    public required DateTimeOffset PublishedAt { get; init; }

    /// <summary>The picture so far, as a <c>data:image/webp</c> URI (at most 256 px), on progress events that have one.</summary>
    public string? Preview { get; init; }

    /// <summary>The whole quest, on terminal events, so clients need no second request (image URLs signed by the API).</summary>
    public QuestDto? Quest { get; init; }

    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, SerializerOptions);

    public static QuestEvent? FromJson(string json) => JsonSerializer.Deserialize<QuestEvent>(json, SerializerOptions);
}
