using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace ImageGen.Core.Catalog;

/// <summary>
/// The models ImageGen offers and the ones providers shut down. The API validates against it, the workers map from it,
/// the web builds its form from it. It is data: <c>catalog.json</c> ships embedded, and an operator's override (same
/// shape) adds models, changes fields or retires models without a rebuild (<see cref="Load"/>).
/// </summary>
public sealed partial class ModelCatalog
{
    public const string LocalSketch = "local-sketch";
    public const string GptImage2 = "gpt-image-2";
    public const string GptImage15 = "gpt-image-1.5";
    public const string GptImage1Mini = "gpt-image-1-mini";
    public const string FluxPro11 = "flux-pro-1.1";
    public const string Midjourney = "midjourney";

    /// <summary>Seeds are unsigned 32-bit, the widest range every provider accepts.</summary>
    public const long MaxSeed = uint.MaxValue;

    private static readonly JsonSerializerOptions ReadOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
        Converters = { new JsonStringEnumConverter<ModelProvider>() },
    };

    private readonly Dictionary<string, ModelDescriptor> byId;
    private readonly Dictionary<string, RetiredModel> retiredById;

    private ModelCatalog(string version, IReadOnlyList<ModelDescriptor> models, IReadOnlyList<RetiredModel> retired)
    {
        Version = version;
        All = models;
        Retired = retired;
        byId = models.ToDictionary(m => m.Id, StringComparer.Ordinal);
        retiredById = retired.ToDictionary(m => m.Id, StringComparer.Ordinal);
    }

    /// <summary>The embedded catalog, as shipped.</summary>
    public static ModelCatalog Default { get; } = Load();

    /// <summary>The catalog's version, with "+override" when an operator's override applies.</summary>
    public string Version { get; }

    public IReadOnlyList<ModelDescriptor> All { get; }

    /// <summary>
    /// Models a provider shut down: a new quest naming one is refused with <c>model_retired</c> and its replacement;
    /// quests made with it stay readable.
    /// </summary>
    public IReadOnlyList<RetiredModel> Retired { get; }

    public bool TryGet(string? id, [NotNullWhen(true)] out ModelDescriptor? model)
    {
        model = id is null ? null : byId.GetValueOrDefault(id);
        return model is not null;
    }

    public bool TryGetRetired(string? id, [NotNullWhen(true)] out RetiredModel? model)
    {
        model = id is null ? null : retiredById.GetValueOrDefault(id);
        return model is not null;
    }

    /// <summary>The provider of a model as telemetry names it (lower case; "unknown" for a model ImageGen never knew).</summary>
    public string ProviderTag(string modelId) =>
        TryGet(modelId, out var model) ? model.Provider.ToString().ToLowerInvariant()
        : TryGetRetired(modelId, out var retired) ? retired.Provider.ToString().ToLowerInvariant()
        : "unknown";

    /// <summary>
    /// The embedded catalog with each override applied in turn, validated: any problem throws a
    /// <see cref="CatalogException"/> naming the entry and the field, so a bad override stops the service at start.
    /// An override has the catalog's shape: <c>models</c> entries change the model of the same id field by field (a
    /// null removes a field) or add a new one (<c>base</c> copies another model's fields first); <c>retired</c>
    /// entries retire a model (it leaves <c>models</c>).
    /// </summary>
    public static ModelCatalog Load(params IReadOnlyList<(string Source, string Json)> overrides)
    {
        var problems = new List<string>();
        var root = (JsonObject)JsonNode.Parse(ReadEmbedded())!;
        var models = Entries(root, "models", "catalog.json", problems);
        var retired = Entries(root, "retired", "catalog.json", problems);
        var version = root["version"]?.GetValue<string>() ?? "unversioned";

        foreach (var (source, json) in overrides)
        {
            if (Parse(source, json, problems) is not { } layer)
            {
                continue;
            }

            version += "+override";
            foreach (var (name, _) in layer)
            {
                if (name is not ("models" or "retired" or "version" or "notes"))
                {
                    problems.Add($"{source}: '{name}' is not a catalog section (models, retired)");
                }
            }

            foreach (var (id, entry) in Entries(layer, "models", source, problems))
            {
                if (models.TryGetValue(id, out var existing))
                {
                    Overlay(existing, entry);
                }
                else
                {
                    models[id] = entry;
                }
            }

            foreach (var (id, entry) in Entries(layer, "retired", source, problems))
            {
                retired[id] = entry;
            }
        }

        foreach (var id in retired.Keys)
        {
            models.Remove(id);
        }

        var descriptors = new List<ModelDescriptor>();
        foreach (var (id, _) in models)
        {
            if (Resolve(id, models, [], problems) is { } resolved && Read<ModelDescriptor>($"model '{id}'", resolved, problems) is { } model)
            {
                problems.AddRange(CatalogRules.Check(model).Select(p => $"model '{id}': {p}"));
                descriptors.Add(model);
            }
        }

        var shutDown = new List<RetiredModel>();
        foreach (var (id, entry) in retired)
        {
            if (Read<RetiredModel>($"retired model '{id}'", entry, problems) is { } model)
            {
                if (!models.ContainsKey(model.Successor))
                {
                    problems.Add($"retired model '{id}': successor: '{model.Successor}' is not a model of the catalog");
                }

                shutDown.Add(model);
            }
        }

        if (problems.Count > 0)
        {
            throw new CatalogException(problems);
        }

        return new ModelCatalog(version, descriptors, shutDown);
    }

    /// <summary>
    /// The catalog a service runs with: the embedded one, then the operator's override file
    /// (<c>Catalog:OverrideFile</c>, a path), then the inline override (<c>Catalog:Override</c>, JSON text).
    /// </summary>
    public static ModelCatalog FromSettings(Func<string, string?> setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var (inlineOverride, overrideFile) = (setting("Catalog:Override"), setting("Catalog:OverrideFile"));
        var overrides = new List<(string, string)>();
        if (!string.IsNullOrWhiteSpace(overrideFile))
        {
            overrides.Add(($"Catalog:OverrideFile ({overrideFile})", File.Exists(overrideFile)
                ? File.ReadAllText(overrideFile)
                : throw new CatalogException([$"Catalog:OverrideFile: no file at '{overrideFile}'"])));
        }

        if (!string.IsNullOrWhiteSpace(inlineOverride))
        {
            overrides.Add(("Catalog:Override", inlineOverride));
        }

        return overrides.Count == 0 ? Default : Load(overrides);
    }

    private static string ReadEmbedded()
    {
        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream("ImageGen.Core.Catalog.catalog.json")
            ?? throw new InvalidOperationException("The embedded catalog.json is missing from ImageGen.Core.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static JsonObject? Parse(string source, string json, List<string> problems)
    {
        try
        {
            if (JsonNode.Parse(json) is JsonObject layer)
            {
                return layer;
            }

            problems.Add($"{source}: the override must be a JSON object with 'models' and/or 'retired'");
        }
        catch (JsonException e)
        {
            problems.Add($"{source}: not JSON ({e.Message})");
        }

        return null;
    }

    /// <summary>A section's entries by id, in order; an entry without an id, or with a duplicate, is a problem.</summary>
    private static Dictionary<string, JsonObject> Entries(JsonObject root, string section, string source, List<string> problems)
    {
        var entries = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        if (root[section] is not { } node)
        {
            return entries;
        }

        if (node is not JsonArray array)
        {
            problems.Add($"{source}: '{section}' must be a list");
            return entries;
        }

        foreach (var (item, index) in array.Select((item, index) => (item, index)))
        {
            if (item is not JsonObject entry || entry["id"] is not JsonValue idNode || !idNode.TryGetValue<string>(out var id))
            {
                problems.Add($"{source}: {section}[{index}]: id: every entry needs an 'id' string");
                continue;
            }

            if (!IdPattern().IsMatch(id))
            {
                problems.Add($"{source}: {section} '{id}': id: lower-case letters, digits, '.' and '-' only, at most 64");
            }

            if (!entries.TryAdd(id, (JsonObject)entry.DeepClone()))
            {
                problems.Add($"{source}: {section} '{id}': id: listed twice");
            }
        }

        return entries;
    }

    /// <summary>Each field of <paramref name="layer"/> replaces the same field of <paramref name="entry"/>; a null removes it.</summary>
    private static void Overlay(JsonObject entry, JsonObject layer)
    {
        foreach (var (name, value) in layer)
        {
            if (value is null)
            {
                entry.Remove(name);
            }
            else
            {
                entry[name] = value.DeepClone();
            }
        }
    }

    /// <summary>An entry with its <c>base</c> (recursively) laid under it.</summary>
    private static JsonObject? Resolve(string id, Dictionary<string, JsonObject> models, HashSet<string> seen, List<string> problems)
    {
        var entry = models[id];
        if (entry["base"] is not { } baseNode)
        {
            return entry;
        }

        var baseId = baseNode.GetValueKind() == JsonValueKind.String ? baseNode.GetValue<string>() : null;
        if (baseId is null || !models.ContainsKey(baseId))
        {
            problems.Add($"model '{id}': base: '{baseNode.ToJsonString()}' is not a model of the catalog");
            return null;
        }

        if (!seen.Add(id))
        {
            problems.Add($"model '{id}': base: the models' bases go round in a circle");
            return null;
        }

        if (Resolve(baseId, models, seen, problems) is not { } under)
        {
            return null;
        }

        var merged = (JsonObject)under.DeepClone();
        Overlay(merged, entry);
        merged.Remove("base");
        return merged;
    }

    private static T? Read<T>(string entry, JsonObject json, List<string> problems)
        where T : class
    {
        try
        {
            return json.Deserialize<T>(ReadOptions);
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : null;
            var problem = e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "not a field the catalog knows"
                : e.Message.Contains("missing required properties", StringComparison.Ordinal) ? "a new model needs " + e.Message[(e.Message.LastIndexOf(':') + 2)..].TrimEnd('.')
                : e.Message.Contains("could not be converted", StringComparison.Ordinal) ? "not a value of the right kind (a number, text, a list...)"
                : FirstSentence(e.Message);
            problems.Add($"{entry}: {(field is null ? "" : $"{field}: ")}{problem}");
            return null;
        }
    }

    private static string FirstSentence(string message) => message.Split(". Path:", 2)[0].TrimEnd('.');

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{0,63}$")]
    private static partial Regex IdPattern();
}

/// <summary>A model its provider shut down: when, and which model ImageGen offers instead.</summary>
public sealed record RetiredModel(string Id, string DisplayName, ModelProvider Provider, DateOnly RetiredOn, string Successor);

/// <summary>A catalog that cannot be used, with every problem found, each naming its entry and field.</summary>
public sealed class CatalogException(IReadOnlyList<string> problems)
    : Exception("The model catalog is not valid:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
