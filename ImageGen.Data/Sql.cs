using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Npgsql;

namespace ImageGen.Data;

/// <summary>A piece of SQL with its own parameters, spliced into a statement by <see cref="Sql.Inline"/>, never sent as a value.</summary>
public sealed record SqlFragment(FormattableString Text);

/// <summary>Composes interpolated SQL: one piece of a statement written once and used by several statements.</summary>
public static partial class Sql
{
    /// <summary>
    /// The statement with each <see cref="SqlFragment"/> among its values written in place, the fragment's own values
    /// becoming the statement's parameters: what EF's <c>FromSql</c> and <c>SqlQuery</c> take, every value still a parameter.
    /// </summary>
    public static FormattableString Inline(FormattableString statement)
    {
        var values = new List<object?>();
        var format = Placeholder().Replace(statement.Format, hole =>
        {
            var value = statement.GetArgument(int.Parse(hole.Groups[1].Value, CultureInfo.InvariantCulture));
            if (value is not SqlFragment fragment)
            {
                values.Add(value);
                return Hole(values.Count - 1);
            }

            var inner = Inline(fragment.Text);
            var offset = values.Count;
            values.AddRange(inner.GetArguments());
            return Placeholder().Replace(inner.Format, m => Hole(offset + int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        });
        return FormattableStringFactory.Create(format, [.. values]);
    }

    /// <summary>
    /// The statement as a command's text and parameters: hole <c>{n}</c> becomes parameter <c>@pn</c> (as EF names them),
    /// <see cref="SqlFragment"/>s written in place first.
    /// </summary>
    public static void Bind(FormattableString statement, NpgsqlCommand command)
    {
        var inlined = Inline(statement);
        command.CommandText = Placeholder().Replace(inlined.Format, hole => "@p" + hole.Groups[1].Value);
        var values = inlined.GetArguments();
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.Add(new NpgsqlParameter("p" + i.ToString(CultureInfo.InvariantCulture), values[i] ?? DBNull.Value));
        }
    }

    private static string Hole(int index) => "{" + index.ToString(CultureInfo.InvariantCulture) + "}";

    // An interpolated string's holes are {0}, {1}, ... (no format or alignment in SQL), and SQL text has no braces of its own.
    [GeneratedRegex(@"\{(\d+)\}")]
    private static partial Regex Placeholder();
}
