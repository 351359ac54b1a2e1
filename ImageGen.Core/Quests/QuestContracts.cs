using System.Text.Json.Serialization;

namespace ImageGen.Core.Quests;

/// <summary>The body of <c>POST /api/quests</c>. Every field is optional here so validation can name what is missing.</summary>
public sealed record CreateQuestRequest
{
    public string? Prompt { get; init; }
    public string? Model { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public long? Seed { get; init; }
}

/// <summary>A quest as clients see it.</summary>
public sealed record QuestDto
{
    public required Guid Id { get; init; }
    public required string Prompt { get; init; }
    public required string Model { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required long Seed { get; init; }

    /// <summary>Credits reserved for this quest: charged on success, returned otherwise.</summary>
    public required int Cost { get; init; }

    [JsonConverter(typeof(JsonStringEnumConverter<QuestStatus>))]
    public required QuestStatus Status { get; init; }

    /// <summary>0..1.</summary>
    public required double Progress { get; init; }
    public string? StatusText { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public required IReadOnlyList<QuestImageDto> Images { get; init; }
    public QuestErrorDto? Error { get; init; }
}

public sealed record QuestImageDto(Guid Id, string Url, int Width, int Height, string ContentType);

public sealed record QuestErrorDto(string Code, string Message);

/// <summary>A page of quests, newest first. <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record QuestPage(IReadOnlyList<QuestDto> Items, string? NextCursor);
