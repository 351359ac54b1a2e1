namespace ImageGen.Core.Catalog;

/// <summary>What makes a catalog entry usable: each rule names the field it is about.</summary>
internal static class CatalogRules
{
    private static readonly string[] Formats = ["png", "jpeg", "webp"];
    private static readonly string[] OpenAIQualities = ["auto", "low", "medium", "high"];
    private static readonly string[] Backgrounds = ["auto", "opaque", "transparent"];
    private static readonly string[] Moderations = ["auto", "low"];
    private static readonly string[] Fidelities = ["low", "high"];

    public static IEnumerable<string> Check(ModelDescriptor model)
    {
        var problems = new List<string>();
        void Require(bool holds, string problem)
        {
            if (!holds)
            {
                problems.Add(problem);
            }
        }

        Require(!string.IsNullOrWhiteSpace(model.DisplayName), "displayName: must not be empty");
        Require(model.MaxPromptLength is > 0 and <= 100_000, $"maxPromptLength: must be between 1 and 100000 ({model.MaxPromptLength})");
        Require(model.OutputFormats.Count > 0, "outputFormats: name at least one");
        OnlyFrom(problems, "outputFormats", model.OutputFormats, Formats);
        OnlyFrom(problems, "backgrounds", model.Backgrounds, Backgrounds);
        OnlyFrom(problems, "moderations", model.Moderations, Moderations);
        OnlyFrom(problems, "inputFidelities", model.InputFidelities, Fidelities);
        if (model.Provider == ModelProvider.OpenAI)
        {
            OnlyFrom(problems, "qualities", model.Qualities, OpenAIQualities);
        }

        Range(problems, "imageCount", model.ImageCount, 1, 10);
        Range(problems, "safetyTolerance", model.SafetyTolerance, 0, 6);
        Range(problems, "inputImages", model.InputImages, 1, 16);
        Range(problems, "partialImages", model.PartialImages, 0, 3);
        Range(problems, "stylize", model.Stylize, 0, 1000);

        Require(model.Dimensions is null || model.Sizes is null, "dimensions: a model takes free width and height or a size list, not both");
        if (model.Dimensions is { } d)
        {
            Require(d.Min > 0 && d.Min <= d.Max && d.Multiple > 0, $"dimensions: needs 0 < min <= max and a positive multiple ({d.Min}, {d.Max}, {d.Multiple})");
            Require(d.Contains(d.DefaultWidth) && d.Contains(d.DefaultHeight) && d.Multiple > 0 && d.IsMultiple(d.DefaultWidth) && d.IsMultiple(d.DefaultHeight),
                "dimensions: the default width and height must lie in the range, on the multiple");
        }

        if (model.FreeSizes is { } rule)
        {
            Require(model.Sizes is not null, "freeSizes: goes with a 'sizes' list of presets");
            Require(rule is { Multiple: > 0, MaxEdge: > 0, MaxAspect: >= 1, MinPixels: >= 0 } && rule.MinPixels <= rule.MaxPixels,
                "freeSizes: needs a positive multiple and long edge, an aspect of at least 1, and minPixels <= maxPixels");
        }

        foreach (var size in model.Sizes ?? [])
        {
            if (size != "auto")
            {
                var parsed = SizeRule.Parse(size);
                Require(parsed is not null, $"sizes: '{size}' is not WIDTHxHEIGHT or auto");
                if (parsed is var (w, h) && model.FreeSizes?.Problem(w, h) is { } problem)
                {
                    problems.Add($"sizes: '{size}' breaks the model's own freeSizes rule: {problem}");
                }
            }
        }

        Require(model.Actions is null || model.Provider == ModelProvider.Midjourney, "actions: only Midjourney models follow up a grid");
        OnlyFrom(problems, "actions", model.Actions, [.. MidjourneyActions.OnGrid, .. MidjourneyActions.OnUpscale, .. MidjourneyActions.OnAnyImage]);
        Require(!model.TakesMask || model.InputImages is not null, "takesMask: a mask goes with input images");
        problems.AddRange(model.Cost.Problems(model.Provider));
        return problems;
    }

    private static void OnlyFrom(List<string> problems, string field, IReadOnlyList<string>? values, string[] known)
    {
        if (values is not null && values.Count == 0)
        {
            problems.Add($"{field}: an empty list; leave the field out instead");
        }

        foreach (var value in values ?? [])
        {
            if (!known.Contains(value, StringComparer.Ordinal))
            {
                problems.Add($"{field}: '{value}' is not one of {string.Join(", ", known)}");
            }
        }
    }

    private static void Range(List<string> problems, string field, IntRange? range, int floor, int ceiling)
    {
        if (range is not null && !(range.Min >= floor && range.Max <= ceiling && range.Min <= range.Default && range.Default <= range.Max))
        {
            problems.Add($"{field}: needs {floor} <= min <= default <= max <= {ceiling} ({range.Min}, {range.Default}, {range.Max})");
        }
    }
}
