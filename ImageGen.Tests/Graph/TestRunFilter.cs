using System.Reflection;
using System.Text.RegularExpressions;

namespace ImageGen.Tests.Graph;

/// <summary>
/// Which tests this run was asked for, read from the runner's own filter options (<c>-class</c>, <c>-namespace</c>,
/// <c>-method</c>, and their <c>--filter-*</c> spellings), so the main graph is started only when a test that uses it
/// may run: the transition, unit and storage tests run alone in seconds, without it. Any other filter (traits, queries)
/// or none at all counts as "every test may run".
/// </summary>
internal static class TestRunFilter
{
    private static readonly Dictionary<string, string> Kinds = new(StringComparer.Ordinal)
    {
        ["-class"] = "class",
        ["--filter-class"] = "class",
        ["-namespace"] = "namespace",
        ["--filter-namespace"] = "namespace",
        ["-method"] = "method",
        ["--filter-method"] = "method",
    };

    /// <summary>True unless the run's filters select no test of a class whose constructor takes <paramref name="fixture"/>.</summary>
    public static bool MaySelectTestsUsing(Type fixture) => MaySelectTestsUsing(fixture, Environment.GetCommandLineArgs());

    public static bool MaySelectTestsUsing(Type fixture, IReadOnlyList<string> arguments)
    {
        var filters = new List<(string Kind, Regex Pattern)>();
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (Kinds.TryGetValue(argument, out var kind))
            {
                // Options may repeat, and MTP's take several values after one flag.
                for (; i + 1 < arguments.Count && !arguments[i + 1].StartsWith('-'); i++)
                {
                    filters.Add((kind, Wildcard(arguments[i + 1])));
                }
            }
            else if (argument.StartsWith("-trait", StringComparison.Ordinal) || argument.StartsWith("--filter", StringComparison.Ordinal)
                || argument.StartsWith("--treenode-filter", StringComparison.Ordinal) || argument.StartsWith("-not", StringComparison.Ordinal))
            {
                return true;
            }
        }

        if (filters.Count == 0)
        {
            return true;
        }

        var users = fixture.Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetConstructors().Any(c => c.GetParameters().Any(p => p.ParameterType == fixture)));
        return users.Any(type => filters.Any(filter => filter.Kind switch
        {
            "class" => filter.Pattern.IsMatch(type.FullName!),
            "namespace" => NamespaceAndParents(type.Namespace!).Any(filter.Pattern.IsMatch),
            _ => type.GetMethods(BindingFlags.Public | BindingFlags.Instance).Any(m => filter.Pattern.IsMatch($"{type.FullName}.{m.Name}")),
        }));
    }

    /// <summary>A namespace filter also selects the namespaces under it: a type matches by its namespace or any above it.</summary>
    private static IEnumerable<string> NamespaceAndParents(string ns)
    {
        for (var name = ns; name.Length > 0; name = name.Contains('.') ? name[..name.LastIndexOf('.')] : "")
        {
            yield return name;
        }
    }

    /// <summary>The runner's patterns: a name, with <c>*</c> standing for anything.</summary>
    private static Regex Wildcard(string pattern) =>
        new($"^{Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal)}$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
}
