using ImageGen.Core.Catalog;

namespace ImageGen.Core.Quests;

/// <summary>A request that passed validation, with defaults applied.</summary>
public sealed record ValidQuest(string Prompt, ModelDescriptor Model, int Width, int Height, long Seed)
{
    /// <summary>The credits reserved when the quest is submitted.</summary>
    public int Cost => Model.Cost.CostFor(Width, Height);
}

/// <summary>Checks a quest request against the model catalog. The API and the web form use this same code.</summary>
public static class QuestValidator
{
    public static IReadOnlyList<FieldError> Validate(CreateQuestRequest request, out ValidQuest? quest, Func<long>? seedSource = null)
    {
        quest = null;
        var errors = new List<FieldError>();

        var prompt = request.Prompt;
        if (string.IsNullOrWhiteSpace(prompt))
        {
            errors.Add(new FieldError("prompt", prompt is null ? ErrorCodes.Required : ErrorCodes.PromptEmpty,
                "Write a prompt: describe the image you want."));
        }

        if (request.Model is null)
        {
            errors.Add(new FieldError("model", ErrorCodes.Required, $"Choose a model, for example '{ModelCatalog.LocalSketch}'."));
            return errors;
        }

        if (!ModelCatalog.TryGet(request.Model, out var model))
        {
            var known = string.Join(", ", ModelCatalog.All.Where(m => m.Available).Select(m => m.Id));
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

        var width = request.Width ?? model.Size.DefaultWidth;
        var height = request.Height ?? model.Size.DefaultHeight;
        ValidateDimension("width", width, model, errors);
        ValidateDimension("height", height, model, errors);

        if (request.Seed is < 0 or > ModelCatalog.MaxSeed)
        {
            errors.Add(new FieldError("seed", ErrorCodes.SeedOutOfRange, $"The seed must be between 0 and {ModelCatalog.MaxSeed}."));
        }

        if (errors.Count == 0)
        {
            var seed = request.Seed ?? (seedSource ?? DefaultSeed)();
            quest = new ValidQuest(prompt!, model, width, height, seed);
        }

        return errors;
    }

    private static void ValidateDimension(string field, int value, ModelDescriptor model, List<FieldError> errors)
    {
        var range = model.Size;
        if (!range.Contains(value))
        {
            errors.Add(new FieldError(field, ErrorCodes.SizeOutOfRange,
                $"The {field} must be between {range.Min} and {range.Max} pixels for {model.DisplayName}; it was {value}."));
        }
        else if (!range.IsMultiple(value))
        {
            errors.Add(new FieldError(field, ErrorCodes.SizeNotMultiple,
                $"The {field} must be a multiple of {range.Multiple} for {model.DisplayName}; it was {value}."));
        }
    }

    private static long DefaultSeed() => Random.Shared.NextInt64(0, ModelCatalog.MaxSeed + 1);
}
