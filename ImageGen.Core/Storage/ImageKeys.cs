using System.Globalization;
using System.Text.RegularExpressions;

namespace ImageGen.Core.Storage;

/// <summary>
/// How images are named in a store: "{shard}/{id}.{ext}" for an original, "{shard}/{id}.w{width}q{quality}.{ext}" for a
/// variant. The shard is two characters of the id's random tail: ids are UUIDv7, whose leading characters are a
/// timestamp, so sharding on them put a day's images in one directory (or one object-store prefix).
/// </summary>
public static partial class ImageKeys
{
    public static string KeyFor(Guid imageId, string extension) => ShardOf(imageId) + "/" + imageId.ToString("N") + "." + extension;

    /// <summary>The key of a variant: beside its original, named after the variant.</summary>
    public static string VariantKeyFor(Guid imageId, int width, int quality, string extension) =>
        KeyFor(imageId, string.Create(CultureInfo.InvariantCulture, $"w{width}q{quality}.{extension}"));

    /// <summary>The shard an id's keys are under (the last two hex characters).</summary>
    public static string ShardOf(Guid imageId) => imageId.ToString("N")[30..];

    /// <summary>
    /// The shards an image's keys may be under: images stored before the random shard used the first two characters,
    /// and their keys (kept in the database) stay valid.
    /// </summary>
    public static IEnumerable<string> ShardsOf(Guid imageId)
    {
        var name = imageId.ToString("N");
        yield return name[30..];
        if (name[..2] != name[30..])
        {
            yield return name[..2];
        }
    }

    public static bool IsKey(string key) => KeyPattern().IsMatch(key);

    public static bool IsVariantKey(string key) => KeyPattern().Match(key) is { Success: true } match && match.Groups[1].Success;

    [GeneratedRegex("^[0-9a-f]{2}/[0-9a-f]{32}(\\.w[0-9]{1,5}q[0-9]{1,3})?(\\.[a-z0-9]{1,8})?$")]
    private static partial Regex KeyPattern();
}
