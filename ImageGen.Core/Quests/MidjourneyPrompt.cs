using System.Globalization;
using System.Text.RegularExpressions;
using ImageGen.Core.Catalog;

namespace ImageGen.Core.Quests;

/// <summary>
/// Midjourney reads parameters typed into the prompt (<c>--ar 21:9</c>, <c>--repeat 40</c>), and some of them change what
/// a job costs or how many jobs it is. So a Midjourney prompt's flags are read here, before anything is priced: the
/// catalogued ones (<c>--ar</c> from the offered ratios, <c>--stylize</c>, <c>--v</c>, <c>--niji</c>) become the
/// quest's parameters, <c>--chaos</c> within 0-100 stays in the text (it changes nothing that is billed), and every
/// other flag (<c>--repeat</c>, <c>--turbo</c>, <c>--fast</c>, <c>--relax</c>, <c>--q</c>, unknown ones) is refused by
/// name. A flag starts with two hyphens or an em dash (phones turn one into the other) after a space.
/// </summary>
public static partial class MidjourneyPrompt
{
    /// <summary>The prompt without its catalogued flags, what they set, and what was refused.</summary>
    public sealed record Parsed(string Text, string? AspectRatio, int? Stylize, string? Version, IReadOnlyList<FieldError> Errors);

    public static Parsed Parse(string prompt, ModelDescriptor model)
    {
        var flags = Flag().Matches(prompt);
        if (flags.Count == 0)
        {
            return new Parsed(prompt, null, null, null, []);
        }

        var errors = new List<FieldError>();
        IReadOnlyList<string> ratios = model.AspectRatios ?? [], versions = model.Versions ?? [];
        var kept = new List<string> { prompt[..flags[0].Index].TrimEnd() };
        string? ratio = null, version = null;
        int? stylize = null;
        for (var i = 0; i < flags.Count; i++)
        {
            var name = flags[i].Groups[1].Value.ToLowerInvariant();
            var end = i + 1 < flags.Count ? flags[i + 1].Index : prompt.Length;
            var value = prompt[(flags[i].Index + flags[i].Length)..end].Trim();
            switch (name)
            {
                case "ar" or "aspect" when ratios.Contains(value, StringComparer.Ordinal):
                    ratio = value;
                    break;
                case "ar" or "aspect":
                    errors.Add(Refused($"--{name} {value}", ErrorCodes.InvalidValue, $"Midjourney's aspect ratio here is one of {string.Join(", ", ratios)}."));
                    break;
                case "s" or "stylize" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && model.Stylize?.Contains(s) == true:
                    stylize = s;
                    break;
                case "s" or "stylize":
                    errors.Add(Refused($"--{name} {value}", ErrorCodes.ValueOutOfRange, $"--stylize is a whole number from {model.Stylize?.Min ?? 0} to {model.Stylize?.Max ?? 0}."));
                    break;
                case "v" or "version" when versions.Contains(value, StringComparer.Ordinal):
                    version = value;
                    break;
                case "niji" when versions.Contains("niji " + value, StringComparer.Ordinal):
                    version = "niji " + value;
                    break;
                case "v" or "version" or "niji":
                    errors.Add(Refused($"--{name} {value}", ErrorCodes.InvalidValue, $"The version is one of {string.Join(", ", versions)}."));
                    break;
                case "c" or "chaos" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var chaos) && chaos <= 100:
                    kept.Add($"--chaos {chaos}");
                    break;
                case "c" or "chaos":
                    errors.Add(Refused($"--{name} {value}", ErrorCodes.ValueOutOfRange, "--chaos is a whole number from 0 to 100."));
                    break;
                default:
                    errors.Add(Refused($"--{name}", ErrorCodes.UnsupportedParameter,
                        "ImageGen does not pass this Midjourney parameter (it changes what a job costs or how many jobs run, or it is unknown): remove it from the prompt."));
                    break;
            }
        }

        return new Parsed(string.Join(' ', kept.Where(k => k.Length > 0)), ratio, stylize, version, errors);
    }

    private static FieldError Refused(string flag, string code, string why) => new("prompt", code, $"The prompt's {flag} is refused. {why}");

    [GeneratedRegex(@"(?<=^|\s)(?:--|\u2014)([A-Za-z]+)")]
    private static partial Regex Flag();
}
