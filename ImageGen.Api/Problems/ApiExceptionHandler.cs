using System.Text.Json;
using System.Text.RegularExpressions;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Diagnostics;

namespace ImageGen.Api.Problems;

/// <summary>
/// Turns exceptions into ProblemDetails. Request binding failures become 400s naming the field at fault;
/// anything else is a 500 that reveals nothing about the server.
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problemDetails, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, code, field, detail) = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => Describe(json),
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
                (StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", (string?)null, "Send the body as application/json."),
            BadHttpRequestException bad when bad.Message.Contains("no body was provided", StringComparison.Ordinal) =>
                (StatusCodes.Status400BadRequest, ErrorCodes.Required, "body", "The request needs a JSON body."),
            // Named as clients write it (camelCase), also for parameters bound from a record's properties.
            BadHttpRequestException bad when BindFailure().Match(bad.Message) is { Success: true } match =>
                (StatusCodes.Status400BadRequest, ErrorCodes.InvalidType, JsonNamingPolicy.CamelCase.ConvertName(match.Groups["name"].Value),
                    $"'{match.Groups["value"].Value}' is not a valid value for '{JsonNamingPolicy.CamelCase.ConvertName(match.Groups["name"].Value)}'."),
            BadHttpRequestException bad =>
                (bad.StatusCode, "bad_request", null, "The request could not be read."),
            // The database or the queue is unreachable: nothing was half-written (each write is one transaction).
            _ when IsUnavailable(exception) =>
                (StatusCodes.Status503ServiceUnavailable, ErrorCodes.ServiceUnavailable, null, "ImageGen's storage is briefly unavailable. Nothing was saved; try again in a few seconds."),
            _ => (StatusCodes.Status500InternalServerError, ErrorCodes.Internal, null, "Something went wrong on our side. Try again; if it persists, tell us the trace id."),
        };

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "5";
        }

        if (status >= 500)
        {
            LogUnhandled(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        }

        httpContext.Response.StatusCode = status;
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (field is not null)
        {
            extensions["field"] = field;
            extensions["errors"] = new[] { new FieldError(field, code, detail) };
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Title = status switch
                {
                    StatusCodes.Status503ServiceUnavailable => "Briefly unavailable.",
                    >= 500 => "Internal error.",
                    _ => "The request is not valid.",
                },
                Detail = detail,
                Extensions = extensions,
            },
        });
    }

    private static (int Status, string Code, string? Field, string Detail) Describe(JsonException json)
    {
        if (UnmappedMember().Match(json.Message) is { Success: true } unmapped)
        {
            var name = unmapped.Groups["name"].Value;
            return (StatusCodes.Status400BadRequest, ErrorCodes.UnknownParameter, name, $"'{name}' is not a parameter ImageGen knows. Check its spelling (names are camelCase).");
        }

        var field = FieldFromPath(json.Path);
        // Broken syntax comes from the reader (a JsonException subclass, possibly wrapped to add the path);
        // anything else is valid JSON of the wrong shape.
        var malformed = json.GetType() != typeof(JsonException) || json.InnerException is JsonException;
        return !malformed
            ? (StatusCodes.Status400BadRequest, ErrorCodes.InvalidType, field ?? "body",
                field is null ? "The body must be a JSON object." : $"The field '{field}' has the wrong type.")
            : (StatusCodes.Status400BadRequest, ErrorCodes.MalformedJson, field ?? "body",
                $"The body is not valid JSON (line {json.LineNumber + 1}, position {json.BytePositionInLine + 1}).");
    }

    private static bool IsUnavailable(Exception exception) => exception switch
    {
        Npgsql.NpgsqlException { IsTransient: true } => true,
        StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException => true,
        Microsoft.EntityFrameworkCore.Storage.RetryLimitExceededException => true,
        Core.Storage.ImageStoreUnavailableException => true,
        { InnerException: { } inner } => IsUnavailable(inner),
        _ => false,
    };

    /// <summary>"$.width" becomes "width"; "$" or nothing means the whole body.</summary>
    private static string? FieldFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return null;
        }

        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    [GeneratedRegex("^The JSON property '(?<name>[^']+)' could not be mapped")]
    private static partial Regex UnmappedMember();

    // The framework's wording for a route or query value that does not parse, e.g. limit=abc.
    [GeneratedRegex("^Failed to bind parameter \"[^ ]+ (?<name>[^\"]+)\" from \"(?<value>.*)\"\\.$")]
    private static partial Regex BindFailure();

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception exception);
}
