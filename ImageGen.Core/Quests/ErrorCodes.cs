namespace ImageGen.Core.Quests;

/// <summary>
/// Stable machine-readable error codes. Clients branch on these, so a code, once shipped, never changes meaning.
/// </summary>
public static class ErrorCodes
{
    // Request validation (400)
    public const string ValidationFailed = "validation_failed";
    public const string MalformedJson = "malformed_json";
    public const string InvalidType = "invalid_type";
    public const string Required = "required";
    public const string PromptEmpty = "prompt_empty";
    public const string PromptTooLong = "prompt_too_long";
    public const string UnknownModel = "unknown_model";
    public const string ModelUnavailable = "model_unavailable";
    public const string SizeOutOfRange = "size_out_of_range";
    public const string SizeNotMultiple = "size_not_multiple";
    public const string SeedOutOfRange = "seed_out_of_range";
    public const string InvalidPaging = "invalid_paging";

    // Lookups
    public const string QuestNotFound = "quest_not_found";
    public const string ImageNotFound = "image_not_found";
    public const string NotFound = "not_found";

    // Generation outcomes
    public const string RenderFailed = "render_failed";
    public const string StorageFailed = "storage_failed";
    public const string Internal = "internal_error";
}
