using ImageGen.Core.Catalog;

namespace ImageGen.Core.Quests;

/// <summary>A request that passed validation, with the model's defaults applied.</summary>
public sealed record ValidQuest(string Prompt, ModelDescriptor Model, QuestParameters Parameters)
{
    /// <summary>The fallbacks, validated for their own models (empty without any).</summary>
    public IReadOnlyList<ValidQuest> Fallbacks { get; init; } = [];

    public int? Width => Parameters.Width;
    public int? Height => Parameters.Height;
    public string? Size => Parameters.Size;
    public string? Quality => Parameters.Quality;
    public int ImageCount => Parameters.N;

    /// <summary>The credits reserved when the quest is submitted: its own worst case, or a fallback's where dearer.</summary>
    public int Cost => Fallbacks.Aggregate(OwnCost, (most, fallback) => Math.Max(most, fallback.OwnCost));

    /// <summary>The worst case of this model alone: what a run on it is charged at most.</summary>
    public int OwnCost => Model.Cost.Estimate(this);
}

/// <summary>Checks a quest request against the model catalog. The API and the web form use this same code.</summary>
public static partial class QuestValidator
{
    /// <summary>Common spellings of quality from other APIs, mapped to gpt-image's levels.</summary>
    private static readonly Dictionary<string, string> QualityAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["standard"] = "medium",
        ["hd"] = "high",
    };

    public static IReadOnlyList<FieldError> Validate(ModelCatalog catalog, CreateQuestRequest request, out ValidQuest? quest, Func<long>? seedSource = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(request);
        quest = null;
        var errors = new List<FieldError>();

        var prompt = request.Prompt;
        if (request.Action is not null && string.IsNullOrWhiteSpace(prompt))
        {
            // A follow-up of a grid takes the grid's prompt (the API fills it in).
            prompt = "";
        }
        else if (string.IsNullOrWhiteSpace(prompt))
        {
            errors.Add(new FieldError("prompt", prompt is null ? ErrorCodes.Required : ErrorCodes.PromptEmpty, "Write a prompt: describe the image you want."));
        }
        else if (FirstControlCharacter(prompt) is { } at)
        {
            errors.Add(new FieldError("prompt", ErrorCodes.ControlCharacters,
                $"The prompt holds a control character (U+{(int)prompt[at]:X4} at position {at + 1}). Only printable text, line breaks and tabs are taken."));
        }

        if (request.Model is null)
        {
            errors.Add(new FieldError("model", ErrorCodes.Required, $"Choose a model, for example '{ModelCatalog.LocalSketch}'."));
            return errors;
        }

        if (catalog.TryGetRetired(request.Model, out var retired))
        {
            errors.Add(new FieldError("model", ErrorCodes.ModelRetired,
                $"{retired.DisplayName} was shut down by {retired.Provider} on {retired.RetiredOn:yyyy-MM-dd}; use '{retired.Successor}' instead."));
            return errors;
        }

        if (!catalog.TryGet(request.Model, out var model))
        {
            var known = string.Join(", ", catalog.All.Where(m => m.Available).Select(m => m.Id));
            errors.Add(new FieldError("model", ErrorCodes.UnknownModel, $"Unknown model '{request.Model}'. Available models: {known}."));
            return errors;
        }

        if (!model.Available)
        {
            errors.Add(new FieldError("model", ErrorCodes.ModelUnavailable, $"{model.DisplayName} is not available: {model.Description}"));
            return errors;
        }

        if (prompt is not null && prompt.Length > model.MaxPromptLength)
        {
            errors.Add(new FieldError("prompt", ErrorCodes.PromptTooLong,
                $"The prompt has {prompt.Length} characters; {model.DisplayName} takes at most {model.MaxPromptLength}."));
        }

        if (model.Provider == ModelProvider.Midjourney && !string.IsNullOrEmpty(prompt))
        {
            // Flags typed into the prompt are parameters like any other: priced, checked, or refused by name.
            var parsed = MidjourneyPrompt.Parse(prompt, model);
            errors.AddRange(parsed.Errors);
            prompt = parsed.Text;
            request = request with
            {
                AspectRatio = Twice(errors, "aspectRatio", request.AspectRatio, parsed.AspectRatio),
                Stylize = Twice(errors, "stylize", request.Stylize, parsed.Stylize),
                Version = Twice(errors, "version", request.Version, parsed.Version),
            };
        }

        var check = new Checker(model, errors);
        var parameters = new QuestParameters
        {
            N = check.Range("n", request.N, model.ImageCount, "images per quest") ?? model.ImageCount.Default,
            SafetyTolerance = check.Range("safetyTolerance", request.SafetyTolerance, model.SafetyTolerance, "safety tolerance"),
            OutputFormat = check.OneOf("outputFormat", request.OutputFormat, model.OutputFormats),
            Quality = check.OneOf("quality", request.Quality is { } q && QualityAliases.TryGetValue(q, out var mapped) ? mapped : request.Quality, model.Qualities),
            AspectRatio = check.OneOf("aspectRatio", request.AspectRatio, model.AspectRatios),
            PromptUpsampling = check.Flag("promptUpsampling", request.PromptUpsampling, model.TakesPromptUpsampling),
            Raw = check.Flag("raw", request.Raw, model.TakesRaw),
            Seed = check.Seed(request.Seed, model.Provider == ModelProvider.Local ? seedSource ?? DefaultSeed : null),
            Stylize = check.Range("stylize", request.Stylize, model.Stylize, "stylize"),
            Version = check.OneOf("version", request.Version, model.Versions),
        };
        parameters = check.Dimensions(request, parameters);
        parameters = check.Inputs(request, parameters);
        parameters = check.OutputOptions(request, parameters);

        var fallbacks = Fallbacks(catalog, request, model, errors, seedSource);
        if (errors.Count == 0)
        {
            quest = new ValidQuest(prompt!, model, fallbacks.Count == 0 ? parameters
                : parameters with { Fallbacks = [.. fallbacks.Select(f => new FallbackPlan(f.Model.Id, f.Parameters))] })
            {
                Fallbacks = fallbacks,
            };
        }

        return errors;
    }

    /// <summary>The most fallback models a quest may name.</summary>
    public const int MaxFallbacks = 3;

    /// <summary>
    /// Each fallback model checked with the same request, as if it were the model asked: it must exist, differ from the
    /// others and take every parameter given. Not for edits or follow-ups, whose inputs belong to one model.
    /// </summary>
    private static List<ValidQuest> Fallbacks(ModelCatalog catalog, CreateQuestRequest request, ModelDescriptor model, List<FieldError> errors, Func<long>? seedSource)
    {
        var found = new List<ValidQuest>();
        if (request.Fallbacks is not { Count: > 0 } names)
        {
            return found;
        }

        if (names.Count > MaxFallbacks)
        {
            errors.Add(new FieldError("fallbacks", ErrorCodes.ValueOutOfRange, $"A quest names at most {MaxFallbacks} fallback models; {names.Count} were named."));
            return found;
        }

        if (request.Images is { Count: > 0 } || request.Action is not null)
        {
            errors.Add(new FieldError("fallbacks", ErrorCodes.InvalidValue, "An edit or a follow-up runs on the model it names: leave fallbacks out."));
            return found;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { model.Id };
        foreach (var name in names)
        {
            if (!seen.Add(name ?? ""))
            {
                errors.Add(new FieldError("fallbacks", ErrorCodes.InvalidValue, $"'{name}' is named twice (or is the quest's own model)."));
                continue;
            }

            var problems = Validate(catalog, request with { Model = name, Fallbacks = null }, out var fallback, seedSource);
            if (fallback is null)
            {
                var first = problems[0];
                errors.Add(new FieldError("fallbacks", first.Code, $"Fallback '{name}': {first.Message}"));
                continue;
            }

            found.Add(fallback);
        }

        return found;
    }

    /// <summary>A parameter given both as a field and as a prompt flag: the same value, or a refusal naming both.</summary>
    private static T? Twice<T>(List<FieldError> errors, string field, T? given, T? typed)
    {
        if (given is not null && typed is not null && !EqualityComparer<T>.Default.Equals(given, typed))
        {
            errors.Add(new FieldError(field, ErrorCodes.InvalidValue, $"'{field}' is {given}, and the prompt's flag says {typed}: give it once."));
        }

        return given ?? typed;
    }

    private static long DefaultSeed() => Random.Shared.NextInt64(0, ModelCatalog.MaxSeed + 1);
}
