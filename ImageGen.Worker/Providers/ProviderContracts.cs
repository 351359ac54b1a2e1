using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;

namespace ImageGen.Worker.Providers;

/// <summary>What to generate, and the hooks a provider uses to report on it.</summary>
public sealed record ProviderRequest
{
    public required Guid QuestId { get; init; }
    public required string Prompt { get; init; }
    public required ModelDescriptor Model { get; init; }
    public required QuestParameters Parameters { get; init; }

    /// <summary>An edit's images, the edited one first (empty for a new image), and its mask.</summary>
    public IReadOnlyList<InputImage> Inputs { get; init; } = [];
    public InputImage? Mask { get; init; }

    /// <summary>A follow-up's grid, as the provider knows it (Midjourney: the imagine or variation task).</summary>
    public string? ParentJobId { get; init; }

    /// <summary>A job the provider already accepted for this quest (from an earlier attempt): resume it, never submit again.</summary>
    public string? ResumePollingUrl { get; init; }

    /// <summary>
    /// Called as soon as an asynchronous provider accepts the job (its id, where to poll it, what it said the job costs),
    /// so the id survives a crash and a cancel from then on is charged what the provider bills.
    /// </summary>
    public Func<string, string, int?, CancellationToken, Task> OnJobAccepted { get; init; } = static (_, _, _, _) => Task.CompletedTask;

    /// <summary>
    /// Called with true at the moment from which the provider bills whatever happens next, for providers whose billing
    /// point is not a job id (OpenAI: once the request was sent), so a cancel from then on is charged what the provider
    /// bills; and with false when the provider refused that request after all (an error answer is not billed).
    /// </summary>
    public Func<bool, CancellationToken, Task> OnBillable { get; init; } = static (_, _) => Task.CompletedTask;

    /// <summary>Progress 0..1 with a sentence for people.</summary>
    public Func<double, string, CancellationToken, ValueTask> OnProgress { get; init; } = static (_, _, _) => ValueTask.CompletedTask;

    /// <summary>
    /// A preview of the picture so far (WebP, at most 256 px), called just before the progress it belongs to; the next
    /// progress event carries it. Providers that have none never call it.
    /// </summary>
    public Action<byte[]> OnPreview { get; init; } = static _ => { };

    /// <summary>Called after each call to the provider and before each wait to call again, for the quest's timeline.</summary>
    public Action<ProviderCall> OnCall { get; init; } = static _ => { };
}

/// <summary>
/// One call to a provider as operators see it. <see cref="RetryIn"/> is set when another call follows after that
/// wait; <see cref="Sent"/> holds the parameters in the provider's own names (never a key or a header).
/// </summary>
public sealed record ProviderCall(int Attempt, TimeSpan Duration, int? HttpStatus, string? ErrorCode, string? Message, string Circuit,
    TimeSpan? RetryIn, System.Text.Json.Nodes.JsonObject? Sent);

/// <param name="Placeholder">The gallery placeholder, when the provider had the pixels at hand; else the worker makes it from the bytes.</param>
public sealed record GeneratedImage(byte[] Bytes, string ContentType, int Width, int Height, string? Placeholder = null);

/// <param name="BilledCredits">What the provider says it charged, in credits, where it says so.</param>
/// <param name="ProviderTime">Time spent inside the provider (or renderer), for platform-overhead figures.</param>
public sealed record ProviderResult(IReadOnlyList<GeneratedImage> Images, int? BilledCredits, TimeSpan ProviderTime, long? Seed = null)
{
    /// <summary>What a job that answers in words said (Midjourney's describe: four prompts); null for an image job.</summary>
    public IReadOnlyList<string>? Descriptions { get; init; }
}

/// <summary>How a provider call failed; each maps to one error code the user sees.</summary>
public enum ProviderFailure
{
    /// <summary>The provider's safety system refused the prompt or the image. Terminal: never retried, never charged.</summary>
    Moderated,

    /// <summary>429: too many requests or jobs in flight.</summary>
    RateLimited,

    /// <summary>The provider refused the parameters (400/422) or the key (401/403). Terminal.</summary>
    Rejected,

    /// <summary>5xx or a refused connection.</summary>
    Unavailable,

    /// <summary>The provider did not answer in time.</summary>
    Timeout,

    /// <summary>The job or its result is gone (BFL "Task not found", an expired sample URL).</summary>
    Expired,

    /// <summary>The provider answered something this adapter does not understand.</summary>
    Error,

    /// <summary>
    /// The provider account has no credit or quota left (OpenAI's <c>insufficient_quota</c>, BFL's 402): terminal, not
    /// an outage (the circuit stays closed), never charged; operators are alerted.
    /// </summary>
    AccountExhausted,
}

public sealed class ProviderException(ProviderFailure failure, string message, bool retryable, TimeSpan? retryAfter = null, int? statusCode = null, Exception? inner = null)
    : Exception(message, inner)
{
    public ProviderFailure Failure { get; } = failure;

    /// <summary>Whether calling again may succeed and cannot cost twice (a BFL submit that timed out may have created a job: not retryable).</summary>
    public bool Retryable { get; } = retryable;

    /// <summary>The provider's Retry-After, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
    public int? StatusCode { get; } = statusCode;

    /// <summary>True when nothing reached the provider (its circuit was open): nothing can have been billed.</summary>
    public bool NotSent { get; init; }

    /// <summary>Whether a fallback model may run instead: nothing was sent, or the provider kept refusing for its rate limit (never billed).</summary>
    public bool AllowsFallback => NotSent || Failure == ProviderFailure.RateLimited;

    public string ErrorCode => Failure switch
    {
        ProviderFailure.Moderated => ErrorCodes.Moderated,
        ProviderFailure.RateLimited => ErrorCodes.RateLimited,
        ProviderFailure.Rejected => ErrorCodes.ProviderRejected,
        ProviderFailure.Unavailable => ErrorCodes.ProviderUnavailable,
        ProviderFailure.Timeout => ErrorCodes.ProviderTimeout,
        ProviderFailure.Expired => ErrorCodes.ResultExpired,
        ProviderFailure.AccountExhausted => ErrorCodes.ProviderAccountExhausted,
        _ => ErrorCodes.ProviderError,
    };
}

/// <summary>One image provider (a protocol), serving the catalog's models of its <see cref="Provider"/>.</summary>
public interface IImageProvider
{
    ModelProvider Provider { get; }

    Task<ProviderResult> GenerateAsync(ProviderRequest request, CancellationToken cancellationToken);

    /// <summary>The request's parameters as this provider receives them, after mapping (no prompt, no credentials).</summary>
    System.Text.Json.Nodes.JsonObject Describe(ProviderRequest request);
}

/// <summary>An image an edit starts from (or its mask), as stored: cleaned bytes with their type and size.</summary>
public sealed record InputImage(byte[] Bytes, string ContentType, int Width, int Height);
