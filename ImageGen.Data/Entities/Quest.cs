using ImageGen.Core.Quests;

namespace ImageGen.Data.Entities;

/// <summary>A quest as stored. Postgres holds the truth; Redis only carries work and events.</summary>
public sealed class Quest
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Prompt { get; set; }
    public required string Model { get; set; }

    /// <summary>The model the quest asked for when a fallback made its image (<see cref="Model"/> is then the fallback); else null.</summary>
    public string? RequestedModel { get; set; }
    /// <summary>Known before rendering for free and fixed sizes; for aspect-ratio models, filled in from the result.</summary>
    public int? Width { get; set; }
    public int? Height { get; set; }
    public long? Seed { get; set; }

    /// <summary>Every validated parameter (jsonb), as the request named them.</summary>
    public required QuestParameters Parameters { get; set; }

    /// <summary>Credits reserved at submit.</summary>
    public int Cost { get; set; }

    /// <summary>Credits charged when it ended (the rest of <see cref="Cost"/> went back); null until it ends.</summary>
    public int? Charged { get; set; }
    public QuestStatus Status { get; set; }
    public double Progress { get; set; }
    public string? StatusText { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }

    /// <summary>When it was last added to the stream; the reconciler adds it again if no worker took it for a while.</summary>
    public DateTimeOffset EnqueuedAt { get; set; }

    /// <summary>Until when the worker running it holds it; renewed while it works. A lapsed lease means the worker died.</summary>
    public DateTimeOffset? LeaseUntil { get; set; }

    /// <summary>The owner asked to cancel while it was running; the worker stops at the next chance.</summary>
    public bool CancelRequested { get; set; }

    /// <summary>How many times a worker has started it.</summary>
    public int Attempts { get; set; }

    /// <summary>Time spent inside the renderer or provider, as the worker measured it.</summary>
    public int? GenerationMilliseconds { get; set; }

    /// <summary>The provider's id for the job (BFL), kept so a redelivered quest resumes polling instead of paying twice.</summary>
    public string? ProviderJobId { get; set; }
    public string? ProviderPollingUrl { get; set; }

    /// <summary>
    /// From when the provider bills for this quest whatever happens next (OpenAI: the request was sent; BFL and
    /// Midjourney: the job was accepted). A cancel from then on is charged what the provider bills; null before.
    /// </summary>
    public DateTimeOffset? BillableSince { get; set; }

    /// <summary>What the provider said the accepted job costs, in credits (BFL's <c>cost</c>); what a cancel after acceptance charges.</summary>
    public int? ProviderCost { get; set; }

    /// <summary>The API key that submitted it; null when a signed-in session did (for the key's spend cap and usage by key).</summary>
    public Guid? ApiKeyId { get; set; }

    /// <summary>W3C traceparent of the request that created it, so the whole life of a quest is one trace.</summary>
    public string? TraceParent { get; set; }

    /// <summary>An edit's images and mask as resolved at submit (where they are stored); empty for a new image.</summary>
    public List<QuestInput> Inputs { get; set; } = [];

    /// <summary>Where the quest's events are sent (its own webhook, or the account's default at submit); null: nowhere.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Which events are sent to <see cref="WebhookUrl"/> (none without one).</summary>
    public Core.Webhooks.WebhookEvents WebhookEvents { get; set; }

    public List<QuestImage> Images { get; set; } = [];

    /// <summary>What a job that answers in words said (a Midjourney describe: four prompts); null for an image job.</summary>
    public List<string>? Descriptions { get; set; }
}

/// <summary>
/// One image an edit starts from (or its mask): an upload or a gallery image of the owner, found at submit. For a
/// follow-up of a grid (Midjourney), <see cref="JobId"/> is the grid's job at the provider.
/// </summary>
public sealed record QuestInput(Guid Id, string StorageKey, string ContentType, int Width, int Height, bool IsMask = false, string? JobId = null);
