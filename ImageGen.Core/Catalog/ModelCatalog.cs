using System.Diagnostics.CodeAnalysis;

namespace ImageGen.Core.Catalog;

/// <summary>The models ImageGen offers. The API validates against it and the web builds its form from it.</summary>
public static class ModelCatalog
{
    public const string LocalSketch = "local-sketch";

    /// <summary>Seeds are unsigned 32-bit, the widest range every provider accepts.</summary>
    public const long MaxSeed = uint.MaxValue;

    public static IReadOnlyList<ModelDescriptor> All { get; } =
    [
        new ModelDescriptor
        {
            Id = LocalSketch,
            DisplayName = "Local sketch",
            Provider = ModelProvider.Local,
            Description = "The built-in renderer: abstract compositions drawn from the prompt and seed. Works offline, answers in seconds.",
            MaxPromptLength = 4000,
            Size = new SizeRange(Min: 64, Max: 2048, Multiple: 8, DefaultWidth: 512, DefaultHeight: 512),
            Cost = new CostRule(CreditsPerMegapixel: 1, MinimumCredits: 1, Description: "1 credit per image up to 1 megapixel (1024 x 1024), 1 more per started megapixel."),
        },
    ];

    public static bool TryGet(string? id, [NotNullWhen(true)] out ModelDescriptor? model)
    {
        model = All.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.Ordinal));
        return model is not null;
    }
}
