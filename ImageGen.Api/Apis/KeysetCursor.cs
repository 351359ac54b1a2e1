using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImageGen.Api.Apis;

/// <summary>
/// Keyset pagination for lists ordered newest first: the cursor is the last item's (created_at, id), so pages stay
/// stable while new items arrive. Opaque to clients (base64url).
/// </summary>
internal static class KeysetCursor
{
    /// <summary>Reads a page request; returns the problem to answer when the limit or the cursor is not valid.</summary>
    public static ProblemHttpResult? Read(PageRequest page, out int size, out (DateTimeOffset CreatedAt, Guid Id)? after)
    {
        after = null;
        if (page.Size(PageLimits.Lists, out size) is { } problem)
        {
            return problem;
        }

        if (page.Cursor is null)
        {
            return null;
        }

        if (!TryDecode(page.Cursor, out var createdAt, out var id))
        {
            return PageRequest.BadCursor();
        }

        after = (createdAt, id);
        return null;
    }

    /// <summary>
    /// Trims a page fetched with one item more than <paramref name="size"/> and answers the cursor of the next page
    /// (null when that extra item was not there: this is the last page).
    /// </summary>
    public static string? NextPage<T>(List<T> items, int size, Func<T, (DateTimeOffset CreatedAt, Guid Id)> key)
    {
        if (items.Count <= size)
        {
            return null;
        }

        items.RemoveRange(size, items.Count - size);
        var (createdAt, id) = key(items[^1]);
        return Encode(createdAt, id);
    }

    public static string Encode(DateTimeOffset createdAt, Guid id) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(createdAt.UtcTicks.ToString(CultureInfo.InvariantCulture) + "_" + id.ToString("N")));

    private static bool TryDecode(string cursor, out DateTimeOffset createdAt, out Guid id)
    {
        createdAt = default;
        id = default;
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor)).Split('_');
            if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks || !Guid.TryParseExact(parts[1], "N", out id))
            {
                return false;
            }

            createdAt = new DateTimeOffset(ticks, TimeSpan.Zero);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
