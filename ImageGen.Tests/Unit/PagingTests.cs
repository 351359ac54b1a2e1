using ImageGen.Api.Apis;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImageGen.Tests.Unit;

/// <summary>Every list pages the same way: the limit within its bounds, and only cursors the API gave out.</summary>
public sealed class PagingTests
{
    [Fact]
    public void A_cursor_given_out_reads_back_as_the_same_position()
    {
        var createdAt = new DateTimeOffset(2026, 11, 29, 10, 0, 0, 123, TimeSpan.Zero);
        var id = Guid.CreateVersion7();

        var problem = KeysetCursor.Read(new PageRequest(5, KeysetCursor.Encode(createdAt, id)), out var size, out var after);

        Assert.Null(problem);
        Assert.Equal(5, size);
        Assert.Equal((createdAt, id), after);
    }

    [Theory]
    [InlineData("not-a-cursor")]
    [InlineData("MTIz")] // "123": no id
    [InlineData("OTk5OTk5OTk5OTk5OTk5OTk5OTk5OV8wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA")] // ticks past the end of time
    [InlineData("")]
    public void A_cursor_the_api_did_not_give_out_is_refused_by_name(string cursor)
    {
        var problem = KeysetCursor.Read(new PageRequest(null, cursor), out _, out var after);

        AssertPaging(problem, "cursor");
        Assert.Null(after);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(101)]
    public void A_limit_out_of_range_is_refused_by_name(int limit) =>
        AssertPaging(KeysetCursor.Read(new PageRequest(limit), out _, out _), "limit");

    [Fact]
    public void Each_list_has_its_own_default_and_ceiling()
    {
        Assert.Null(new PageRequest().Size(PageLimits.Lists, out var lists));
        Assert.Null(new PageRequest().Size(PageLimits.Ledger, out var ledger));
        Assert.Equal((20, 50), (lists, ledger));
        Assert.Null(new PageRequest(200).Size(PageLimits.Ledger, out _));
        AssertPaging(new PageRequest(200).Size(PageLimits.Lists, out _), "limit");
    }

    private static void AssertPaging(ProblemHttpResult? problem, string field)
    {
        Assert.NotNull(problem);
        Assert.Equal(400, problem.StatusCode);
        Assert.Equal(ErrorCodes.InvalidPaging, problem.ProblemDetails.Extensions["code"]);
        Assert.Equal(field, problem.ProblemDetails.Extensions["field"]);
    }
}
