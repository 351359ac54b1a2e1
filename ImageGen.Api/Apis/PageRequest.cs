using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImageGen.Api.Apis;

/// <summary>How many items a list gives by default and at most.</summary>
internal sealed record PageLimits(int Default, int Max)
{
    /// <summary>Quests, images, users: 20, at most 100.</summary>
    public static readonly PageLimits Lists = new(20, 100);

    /// <summary>Ledger entries are small: 50, at most 200.</summary>
    public static readonly PageLimits Ledger = new(50, 200);
}

/// <summary>
/// A page request as every list takes it, bound with <c>[AsParameters]</c>: <c>?limit=</c> and, for lists paged by
/// cursor, <c>?cursor=</c> (opaque; only what the previous page gave out).
/// </summary>
internal sealed record PageRequest(int? Limit = null, string? Cursor = null)
{
    /// <summary>The page size, or the problem to answer when the limit is out of range.</summary>
    public ProblemHttpResult? Size(PageLimits limits, out int size)
    {
        size = Limit ?? limits.Default;
        return size < 1 || size > limits.Max
            ? ApiProblems.BadRequest(ErrorCodes.InvalidPaging, "limit", $"The limit must be between 1 and {limits.Max}.")
            : null;
    }

    /// <summary>The problem for a cursor this API did not give out.</summary>
    public static ProblemHttpResult BadCursor() =>
        ApiProblems.BadRequest(ErrorCodes.InvalidPaging, "cursor", "The cursor is not one this API gave out.");
}
