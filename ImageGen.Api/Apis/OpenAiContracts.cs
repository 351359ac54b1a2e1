using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageGen.Api.Apis;

/// <summary>
/// OpenAI's <c>POST /v1/images/generations</c> body, in its own names, plus FLUX's parameters as extra fields. Any
/// other field is refused by name (OpenAI does the same), so a typo never silently changes nothing.
/// </summary>
public sealed record OpenAiImageRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("prompt")] public string? Prompt { get; init; }
    [JsonPropertyName("n")] public int? N { get; init; }
    [JsonPropertyName("size")] public string? Size { get; init; }
    [JsonPropertyName("quality")] public string? Quality { get; init; }
    [JsonPropertyName("background")] public string? Background { get; init; }
    [JsonPropertyName("output_format")] public string? OutputFormat { get; init; }
    [JsonPropertyName("output_compression")] public int? OutputCompression { get; init; }
    [JsonPropertyName("moderation")] public string? Moderation { get; init; }
    [JsonPropertyName("response_format")] public string? ResponseFormat { get; init; }
    [JsonPropertyName("style")] public string? Style { get; init; }
    [JsonPropertyName("user")] public string? User { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    [JsonPropertyName("partial_images")] public int? PartialImages { get; init; }
    [JsonPropertyName("input_fidelity")] public string? InputFidelity { get; init; }

    // FLUX (Black Forest Labs) parameters, taken as extra fields.
    [JsonPropertyName("aspect_ratio")] public string? AspectRatio { get; init; }
    [JsonPropertyName("safety_tolerance")] public int? SafetyTolerance { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }
    [JsonPropertyName("raw")] public bool? Raw { get; init; }
    [JsonPropertyName("prompt_upsampling")] public bool? PromptUpsampling { get; init; }

    // ImageGen's own extras: a webhook for the quest behind the call, and which of its events to send.
    [JsonPropertyName("webhook")] public string? Webhook { get; init; }
    [JsonPropertyName("webhook_events")] public IReadOnlyList<string>? WebhookEvents { get; init; }

    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; init; }
}

/// <summary>OpenAI's image answer.</summary>
public sealed record OpenAiImagesResponse(
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiImageData> Data,
    [property: JsonPropertyName("output_format")] string? OutputFormat,
    [property: JsonPropertyName("size")] string? Size,
    [property: JsonPropertyName("quality")] string? Quality,
    [property: JsonPropertyName("background")] string? Background);

public sealed record OpenAiImageData(
    [property: JsonPropertyName("b64_json"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? B64Json,
    [property: JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Url,
    [property: JsonPropertyName("revised_prompt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RevisedPrompt);

public sealed record OpenAiModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiModel> Data);

public sealed record OpenAiModel(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);

/// <summary>
/// One server-sent event of a streamed generation, as OpenAI sends them: <c>image_generation.partial_image</c> (a
/// preview frame), then <c>image_generation.completed</c> (the image), or <c>error</c>.
/// </summary>
public sealed record OpenAiImageStreamEvent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("b64_json"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? B64Json = null,
    [property: JsonPropertyName("created_at"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? CreatedAt = null,
    [property: JsonPropertyName("size"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Size = null,
    [property: JsonPropertyName("quality"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Quality = null,
    [property: JsonPropertyName("background"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Background = null,
    [property: JsonPropertyName("output_format"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? OutputFormat = null,
    [property: JsonPropertyName("partial_image_index"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? PartialImageIndex = null,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] OpenAiStreamError? Error = null);

public sealed record OpenAiStreamError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
