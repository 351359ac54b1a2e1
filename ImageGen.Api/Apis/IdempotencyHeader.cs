using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using ImageGen.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImageGen.Api.Apis;

/// <summary>The <c>Idempotency-Key</c> request header, read the same way by every call that takes one.</summary>
internal static class IdempotencyHeader
{
    public const string Name = ServiceDefaults.HttpRetryRules.IdempotencyHeader;

    /// <summary>The key ("" when none was sent), or a problem when it is too long or holds control characters.</summary>
    public static ProblemHttpResult? Read(HttpContext context, out string key)
    {
        key = context.Request.Headers[Name].ToString();
        return key.Length > ImageGenDbContext.IdempotencyKeyMaxLength || key.Any(char.IsControl)
            ? ApiProblems.BadRequest(ErrorCodes.InvalidIdempotencyKey, Name,
                $"The {Name} header must be 1 to {ImageGenDbContext.IdempotencyKeyMaxLength} printable characters.")
            : null;
    }
}
