using System.Text.RegularExpressions;

namespace ImageGen.Tests.Graph;

/// <summary>
/// What an operator reads when the app starts on a new database: the migrations say what they did, and nothing says
/// "fail" (Data Protection reading its key ring from a database not made yet and EF reading a history table not made
/// yet both logged errors with stack traces on every first start).
/// </summary>
public sealed partial class StartLogTests(GraphFixture graph)
{
    [Fact]
    public void A_new_database_is_migrated_and_seeded_with_no_error_in_the_log()
    {
        // As the dashboard shows them: the console's colours taken out.
        var migrations = graph.LogLines.Where(l => l.StartsWith("migrations: ", StringComparison.Ordinal)).Select(l => Colour().Replace(l, "")).ToList();

        Assert.Contains(migrations, l => l.Contains("Applied ", StringComparison.Ordinal) && !l.Contains("Applied 0 ", StringComparison.Ordinal));
        Assert.Equal([], migrations.Where(l => l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal)));
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Colour();
}
