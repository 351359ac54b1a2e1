using System.Globalization;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;

namespace ImageGen.Web.Services;

/// <summary>
/// What the composer holds: every field a model may take, the request it makes (only the fields the chosen model
/// takes), its cost by the API's own rules, and how it fills from an earlier quest ("generate again").
/// </summary>
public sealed class QuestForm(ModelCatalog catalog)
{
    private static readonly string[] PresetSizes = ["256x256", "512x512", "768x512", "512x768", "1024x768", "768x1024", "1024x1024", "1344x768", "768x1344", "1536x1024", "1024x1536"];

    public string? Prompt { get; set; }
    public string ModelId { get; set; } = ModelCatalog.LocalSketch;
    public string Size { get; set; } = "512x512";
    public string? AspectRatio { get; set; }
    public string? Quality { get; set; }
    public int N { get; set; } = 1;
    public long? Seed { get; set; }
    public int? SafetyTolerance { get; set; }
    public string? OutputFormat { get; set; }
    public bool Raw { get; set; }
    public bool PromptUpsampling { get; set; }
    public string? Background { get; set; }
    public string? Moderation { get; set; }
    public int? OutputCompression { get; set; }

    public ModelCatalog Catalog => catalog;

    public ModelDescriptor? Model => catalog.TryGet(ModelId, out var model) ? model : null;

    /// <summary>Only sizes the model takes: its fixed list, or presets inside its range and grid (and the size already chosen).</summary>
    public IEnumerable<string> SizeOptions => Model switch
    {
        { Sizes: { } sizes } => sizes,
        { Dimensions: { } range } => PresetSizes.Append(Size).Distinct()
            .Where(s => Dimensions(s) is (int w, int h) && range.Contains(w) && range.Contains(h) && range.IsMultiple(w) && range.IsMultiple(h)),
        _ => [],
    };

    /// <summary>The request as the form stands: only what the chosen model takes.</summary>
    public CreateQuestRequest ToRequest()
    {
        var model = Model;
        var (width, height) = model?.Dimensions is not null ? Dimensions(Size) : (null, null);
        return new CreateQuestRequest
        {
            Prompt = Prompt,
            Model = ModelId,
            Width = width,
            Height = height,
            Size = model?.Sizes is not null ? Size : null,
            AspectRatio = model?.AspectRatios is not null ? AspectRatio : null,
            Quality = model?.Qualities is not null ? Quality : null,
            N = model is { ImageCount.Max: > 1 } ? N : null,
            Seed = model?.TakesSeed == true ? Seed : null,
            SafetyTolerance = model?.SafetyTolerance is not null ? SafetyTolerance : null,
            OutputFormat = model is { OutputFormats.Count: > 1 } ? OutputFormat : null,
            Raw = model?.TakesRaw == true ? Raw : null,
            PromptUpsampling = model?.TakesPromptUpsampling == true ? PromptUpsampling : null,
            Background = model?.Backgrounds is not null ? Background : null,
            Moderation = model?.Moderations is not null ? Moderation : null,
            OutputCompression = model?.TakesOutputCompression == true && OutputFormat is "jpeg" or "webp" ? OutputCompression : null,
        };
    }

    /// <summary>What the request would reserve, by the API's own rules; null while the form is not valid.</summary>
    public int? Estimate
    {
        get
        {
            QuestValidator.Validate(catalog, ToRequest() with { Prompt = "estimate" }, out var valid, () => 0);
            return valid?.Cost;
        }
    }

    /// <summary>A newly chosen model starts from its own defaults.</summary>
    public void UseModelDefaults()
    {
        var model = Model;
        Size = model switch
        {
            { Sizes: { } sizes } => sizes[0],
            { Dimensions: { } range } => $"{range.DefaultWidth}x{range.DefaultHeight}",
            _ => Size,
        };
        AspectRatio = model?.AspectRatios?[0];
        Quality = model?.Qualities?[0];
        OutputFormat = model?.OutputFormats.FirstOrDefault();
        SafetyTolerance = model?.SafetyTolerance?.Default;
        Background = model?.Backgrounds?[0];
        Moderation = model?.Moderations?[0];
        OutputCompression = null;
        N = 1;
    }

    /// <summary>An earlier quest's prompt, model, parameters and seed; false (nothing changed) when its model is gone.</summary>
    public bool FillFrom(QuestDto quest)
    {
        if (!catalog.TryGet(quest.Model, out _))
        {
            return false;
        }

        ModelId = quest.Model;
        UseModelDefaults();
        Prompt = quest.Prompt;
        var p = quest.Parameters;
        if (p.Width is { } w && p.Height is { } h)
        {
            Size = $"{w}x{h}";
        }

        Size = p.Size ?? Size;
        AspectRatio = p.AspectRatio ?? AspectRatio;
        Quality = p.Quality ?? Quality;
        N = p.N;
        Seed = quest.Seed ?? p.Seed;
        SafetyTolerance = p.SafetyTolerance ?? SafetyTolerance;
        OutputFormat = p.OutputFormat ?? OutputFormat;
        Raw = p.Raw ?? false;
        PromptUpsampling = p.PromptUpsampling ?? false;
        Background = p.Background ?? Background;
        Moderation = p.Moderation ?? Moderation;
        OutputCompression = p.OutputCompression;
        return true;
    }

    private static (int? Width, int? Height) Dimensions(string size)
    {
        var parts = size.Split('x');
        return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var w) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var h)
            ? (w, h)
            : (null, null);
    }
}
