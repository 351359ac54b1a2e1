using System.Text.Json.Serialization;

namespace ImageGen.Core.Quests;

/// <summary>
/// The body of <c>POST /api/quests</c>. The same camelCase names for every model; a parameter a model does not take
/// is refused by name, never silently dropped. Every field is optional here so validation can name what is missing,
/// and a field that is not on this list is refused too.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateQuestRequest
{
    public string? Prompt { get; init; }
    public string? Model { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public string? Size { get; init; }
    public string? AspectRatio { get; init; }
    public string? Quality { get; init; }
    public int? N { get; init; }
    public long? Seed { get; init; }
    public int? SafetyTolerance { get; init; }
    public string? OutputFormat { get; init; }
    public bool? PromptUpsampling { get; init; }
    public bool? Raw { get; init; }

    /// <summary>OpenAI's <c>background</c>: auto, opaque or transparent (transparent needs png or webp).</summary>
    public string? Background { get; init; }

    /// <summary>OpenAI's <c>moderation</c>: auto or low.</summary>
    public string? Moderation { get; init; }

    /// <summary>OpenAI's <c>output_compression</c>, 0 to 100, for jpeg and webp.</summary>
    public int? OutputCompression { get; init; }

    /// <summary>Preview frames while one new image paints (OpenAI's <c>partial_images</c>), 0 to 3.</summary>
    public int? PartialImages { get; init; }

    /// <summary>How closely an edit keeps the input's details (OpenAI's <c>input_fidelity</c>): low or high.</summary>
    public string? InputFidelity { get; init; }

    /// <summary>
    /// An edit: the images to change (ids of your uploads or gallery images; the first is the one the mask and the
    /// output size follow). Only models that edit take it.
    /// </summary>
    public IReadOnlyList<Guid>? Images { get; init; }

    /// <summary>A follow-up of a Midjourney grid named in <see cref="Images"/>: <c>U1</c>-<c>U4</c> upscale, <c>V1</c>-<c>V4</c> vary.</summary>
    public string? Action { get; init; }

    /// <summary>Midjourney's <c>--stylize</c> (0 to 1000).</summary>
    public int? Stylize { get; init; }

    /// <summary>Midjourney's model version (<c>--v</c>, or <c>niji 6</c>): 7, 6.1, 6.</summary>
    public string? Version { get; init; }

    /// <summary>The mask of an edit (an upload id): a PNG of the first image's size; its transparent pixels are repainted.</summary>
    public Guid? Mask { get; init; }

    /// <summary>
    /// Models to run the quest on, in order, when this one's provider is failing (its circuit is open) or still rate
    /// limited after retries. Each must take the same parameters; the reservation covers the dearest. Off when empty.
    /// </summary>
    public IReadOnlyList<string>? Fallbacks { get; init; }

    /// <summary>Where to send the quest's events (https URL, public address); without it, the account's default endpoint, if any.</summary>
    public string? Webhook { get; init; }

    /// <summary>Which events go to <see cref="Webhook"/>: <c>started</c>, <c>progress</c>, <c>completed</c> (default: completed).</summary>
    public IReadOnlyList<string>? WebhookEvents { get; init; }
}

/// <summary>A quest as clients see it.</summary>
public sealed record QuestDto
{
    public required Guid Id { get; init; }
    public required string Prompt { get; init; }
    public required string Model { get; init; }

    /// <summary>The model the quest asked for, when a fallback made the image (<see cref="Model"/> names the fallback); else null.</summary>
    public string? RequestedModel { get; init; }

    /// <summary>Output size where it is known before the image exists (free sizes and fixed "WxH" sizes).</summary>
    public int? Width { get; init; }
    public int? Height { get; init; }

    /// <summary>Every parameter as validated, defaults applied, in the request's names.</summary>
    public required QuestParameters Parameters { get; init; }
    public long? Seed { get; init; }

    /// <summary>Credits reserved for this quest: charged on success, returned otherwise.</summary>
    public required int Cost { get; init; }

    /// <summary>While queued (on a quest read or a hub snapshot): the quests submitted before it that still wait.</summary>
    public int? QueuePosition { get; init; }

    /// <summary>While queued: about when it starts, in seconds, at the rate quests have been ending (null until some have).</summary>
    public int? EstimatedStartSeconds { get; init; }

    [JsonConverter(typeof(JsonStringEnumConverter<QuestStatus>))]
    public required QuestStatus Status { get; init; }

    /// <summary>0..1.</summary>
    public required double Progress { get; init; }
    public string? StatusText { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Time spent in the renderer or at the provider, as the worker measured it.</summary>
    public int? GenerationMilliseconds { get; init; }
    public required IReadOnlyList<QuestImageDto> Images { get; init; }
    public QuestErrorDto? Error { get; init; }

    /// <summary>A Midjourney describe's answer: up to four prompts for the image (null for a quest that makes images).</summary>
    public IReadOnlyList<string>? Descriptions { get; init; }

    /// <summary>
    /// What cancelling it now would charge: 0 while queued or before a provider accepted the job; once one has, what
    /// the provider bills for it (its reported cost, or the reservation).
    /// </summary>
    public int CancelCharge { get; init; }

    /// <summary>The latest preview frame of a running quest (a <c>data:image/webp</c> URI), where one was made.</summary>
    public string? Preview { get; init; }
}

/// <summary>The parameters of a quest after validation, in the request's names (null where the model does not take it).</summary>
public sealed record QuestParameters
{
    public int? Width { get; init; }
    public int? Height { get; init; }
    public string? Size { get; init; }
    public string? AspectRatio { get; init; }
    public string? Quality { get; init; }
    public int N { get; init; } = 1;
    public long? Seed { get; init; }
    public int? SafetyTolerance { get; init; }
    public string? OutputFormat { get; init; }
    public bool? PromptUpsampling { get; init; }
    public bool? Raw { get; init; }

    public string? Action { get; init; }
    public int? Stylize { get; init; }
    public string? Version { get; init; }

    public string? Background { get; init; }
    public string? Moderation { get; init; }
    public int? OutputCompression { get; init; }
    public int? PartialImages { get; init; }
    public string? InputFidelity { get; init; }

    /// <summary>The fallback models in order, each with the parameters it runs with (defaults applied for it).</summary>
    public IReadOnlyList<FallbackPlan>? Fallbacks { get; init; }

    /// <summary>What an edit was made from: upload or gallery image ids, first the one edited.</summary>
    public IReadOnlyList<Guid>? Images { get; init; }
    public Guid? Mask { get; init; }
}

/// <summary>A fallback model of a quest and its parameters, validated when the quest was submitted.</summary>
public sealed record FallbackPlan(string Model, QuestParameters Parameters);

/// <summary>
/// One image of a quest. <see cref="Url"/> is the original, signed and expiring; <see cref="Variants"/> are smaller
/// widths for a srcset (format chosen by the browser's Accept header); <see cref="Placeholder"/> is a tiny blurred
/// preview as a data URI, to paint before the image arrives.
/// </summary>
public sealed record QuestImageDto(Guid Id, string Url, int Width, int Height, string ContentType, string? Placeholder, IReadOnlyList<ImageVariantUrl> Variants);

/// <summary>A signed URL of the image at one width.</summary>
public sealed record ImageVariantUrl(int Width, string Url);

public sealed record QuestErrorDto(string Code, string Message);

/// <summary>A page of quests, newest first. <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record QuestPage(IReadOnlyList<QuestDto> Items, string? NextCursor);
