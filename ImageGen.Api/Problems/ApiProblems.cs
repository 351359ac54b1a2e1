using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImageGen.Api.Problems;

/// <summary>Builds RFC 9457 problem responses that always carry a stable <c>code</c> and, for input errors, the <c>field</c> at fault.</summary>
internal static class ApiProblems
{
    public static ProblemHttpResult Validation(IReadOnlyList<FieldError> errors)
    {
        var first = errors[0];
        return TypedResults.Problem(
            title: "The request is not valid.",
            detail: first.Message,
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?>
            {
                ["code"] = first.Code,
                ["field"] = first.Field,
                ["errors"] = errors,
            });
    }

    public static ProblemHttpResult BadRequest(string code, string? field, string detail) =>
        Validation([new FieldError(field ?? "", code, detail)]);

    /// <summary>Any other status, with its code and, when one field is at fault, that field.</summary>
    public static ProblemHttpResult Status(int status, string code, string detail, string? field = null, IDictionary<string, object?>? extra = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (field is not null)
        {
            extensions["field"] = field;
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, object?>())
        {
            extensions[key] = value;
        }

        return TypedResults.Problem(detail: detail, statusCode: status, extensions: extensions);
    }

    public static ProblemHttpResult NotFound(string code, string detail) => Status(StatusCodes.Status404NotFound, code, detail);
}
