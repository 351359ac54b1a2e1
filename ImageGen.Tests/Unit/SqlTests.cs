using ImageGen.Data;

namespace ImageGen.Tests.Unit;

/// <summary>A shared piece of SQL is written into the statement, and every value in it stays a parameter.</summary>
public sealed class SqlTests
{
    [Fact]
    public void A_fragment_is_written_in_place_and_its_values_become_the_statements_parameters_in_order()
    {
        var id = Guid.NewGuid();
        const string hostile = "x'); DROP TABLE quests; --";
        var inner = new SqlFragment($"b = {2} AND c = {hostile}");
        var outer = new SqlFragment($"SELECT {1}, {inner}");
        var statement = Sql.Inline($"CALL f({id});\n{outer} WHERE d = {4}");

        Assert.Equal("CALL f({0});\nSELECT {1}, b = {2} AND c = {3} WHERE d = {4}", statement.Format);
        Assert.Equal([id, 1, 2, hostile, 4], statement.GetArguments());
        Assert.DoesNotContain(statement.GetArguments(), a => a is SqlFragment);
    }

    [Fact]
    public void A_statement_without_fragments_is_unchanged()
    {
        var statement = Sql.Inline($"UPDATE quests SET progress = {0.5} WHERE id = {7}");
        Assert.Equal("UPDATE quests SET progress = {0} WHERE id = {1}", statement.Format);
        Assert.Equal([0.5, 7], statement.GetArguments());
    }
}
