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
    public const string ModelRetired = "model_retired";
    public const string SizeOutOfRange = "size_out_of_range";
    public const string SizeNotMultiple = "size_not_multiple";
    public const string SeedOutOfRange = "seed_out_of_range";
    public const string SizeNotSupported = "size_not_supported";
    public const string ValueOutOfRange = "value_out_of_range";
    public const string InvalidValue = "invalid_value";
    public const string UnsupportedParameter = "unsupported_parameter";
    public const string TransparentNeedsAlpha = "transparent_needs_alpha_format";
    public const string UnknownParameter = "unknown_parameter";
    public const string InvalidPaging = "invalid_paging";

    // Accounts and credits
    public const string InsufficientCredits = "insufficient_credits";
    public const string InvalidCredentials = "invalid_credentials";
    public const string AccountLocked = "account_locked";
    public const string SignupLimit = "signup_limit";
    public const string KeySpendCapReached = "key_spend_cap_reached";
    public const string EmailTaken = "email_taken";
    public const string InvalidEmail = "invalid_email";
    public const string WeakPassword = "weak_password";
    public const string InvalidRefreshToken = "invalid_refresh_token";
    public const string RefreshTokenReused = "refresh_token_reused";
    public const string InvalidMailToken = "invalid_mail_token";
    public const string EmailAlreadyVerified = "email_already_verified";
    public const string MailLimit = "mail_limit";
    public const string ReauthenticationRequired = "reauthentication_required";
    public const string AmountOutOfRange = "amount_out_of_range";
    public const string BalanceWouldBeNegative = "balance_would_be_negative";
    public const string ReasonRequired = "reason_required";
    public const string UserNotFound = "user_not_found";
    public const string ApiKeyNotFound = "api_key_not_found";
    public const string TooManyApiKeys = "too_many_api_keys";
    public const string UnknownScope = "unknown_scope";
    public const string ScopeNotAllowed = "scope_not_allowed";
    public const string SessionRequired = "session_required";
    public const string InsufficientScope = "insufficient_scope";
    public const string InvalidSignature = "invalid_signature";
    public const string UrlExpired = "url_expired";

    // Edits
    public const string InputNotFound = "input_not_found";
    public const string MaskNotPng = "mask_not_png";
    public const string MaskSizeMismatch = "mask_size_mismatch";
    public const string ActionNeedsGrid = "action_needs_grid";

    // Webhooks
    public const string WebhookUrlInvalid = "webhook_url_invalid";
    public const string WebhookUrlUnresolvable = "webhook_url_unresolvable";
    public const string WebhookUrlNotAllowed = "webhook_url_not_allowed";
    public const string WebhookEventsInvalid = "webhook_events_invalid";
    public const string WebhookSecretMissing = "webhook_secret_missing";
    public const string WebhookNotFound = "webhook_not_found";

    // Lookups
    public const string QuestNotFound = "quest_not_found";
    public const string ImageNotFound = "image_not_found";
    public const string ImageDeleted = "image_deleted";
    public const string ShareNotFound = "share_not_found";
    public const string CollectionNotFound = "collection_not_found";
    public const string CollectionNameTaken = "collection_name_taken";
    public const string CollectionLimitReached = "collection_limit_reached";
    public const string InvalidWidth = "invalid_width";
    public const string InvalidFormat = "invalid_format";
    public const string InvalidQuality = "invalid_quality";
    public const string ExpiresInOutOfRange = "expires_in_out_of_range";
    public const string NotFound = "not_found";

    // Generation outcomes (what a failed quest's error.code says)
    public const string Moderated = "moderated";
    public const string RateLimited = "rate_limited";
    public const string ProviderRejected = "provider_rejected";
    public const string ProviderError = "provider_error";
    public const string ProviderAccountExhausted = "provider_account_exhausted";
    public const string ProviderUnavailable = "provider_unavailable";
    public const string ProviderTimeout = "provider_timeout";
    public const string ResultExpired = "result_expired";
    public const string TimedOut = "timed_out";
    public const string RenderFailed = "render_failed";
    public const string DeliveryExhausted = "delivery_exhausted";
    public const string Cancelled = "cancelled";

    // Lifecycle
    public const string QuestFinished = "quest_finished";
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string InvalidIdempotencyKey = "invalid_idempotency_key";
    public const string DeadLetterNotFound = "dead_letter_not_found";
    public const string StorageFailed = "storage_failed";
    public const string Internal = "internal_error";

    /// <summary>503: the database or the queue is briefly out of reach and nothing was written (the one code for it).</summary>
    public const string ServiceUnavailable = "service_unavailable";

    /// <summary>A prompt or text field holds control characters (NUL, escape codes): refused rather than stored.</summary>
    public const string ControlCharacters = "control_characters";
}
