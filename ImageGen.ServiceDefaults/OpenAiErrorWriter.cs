using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ImageGen.ServiceDefaults;

/// <summary>
/// Under <c>/v1</c> (the OpenAI-compatible surface) every error, including those the framework, the authentication
/// handlers, the rate limiters and the gateway write, goes out in OpenAI's envelope:
/// <c>{"error":{"message","type","param","code"}}</c>. The native code is kept where OpenAI has no name of its own,
/// so docs/api.md can list them side by side.
/// </summary>
public sealed class OpenAiErrorWriter(Microsoft.Extensions.Options.IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public const string PathPrefix = "/v1";

    public static bool Applies(HttpContext context) => context.Request.Path.StartsWithSegments(PathPrefix);

    public bool CanWrite(ProblemDetailsContext context) => Applies(context.HttpContext);

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        // The same defaults the problem+json writer applies (a stable code for what the framework writes).
        options.Value.CustomizeProblemDetails?.Invoke(context);
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var code = CodeFor(problem.Extensions.TryGetValue("code", out var c) ? c?.ToString() : null);
        var param = problem.Extensions.TryGetValue("field", out var f) && f?.ToString() is { Length: > 0 } field ? field : null;
        var response = context.HttpContext.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, new Envelope(new Error(
            problem.Detail ?? problem.Title ?? "The request failed.",
            TypeFor(status, code),
            param,
            code)), EnvelopeJson.Default.Envelope, context.HttpContext.RequestAborted);
    }

    /// <summary>OpenAI's error types by status and (OpenAI's) code; its SDKs pick their exception class by status.</summary>
    public static string TypeFor(int status, string? code) => (status, code) switch
    {
        (429, "insufficient_quota") => "insufficient_quota",
        (429, _) => "requests",
        (401, _) => "invalid_request_error",
        (>= 500, _) => "server_error",
        _ => "invalid_request_error",
    };

    /// <summary>OpenAI's codes where it has one for the same case; our stable code otherwise.</summary>
    public static string? CodeFor(string? code) => code switch
    {
        "unauthorized" => "invalid_api_key",
        "rate_limited" => "rate_limit_exceeded",
        "insufficient_credits" => "insufficient_quota",
        "moderated" => "moderation_blocked",
        _ => code,
    };

    public sealed record Envelope(Error Error);

    public sealed record Error(string Message, string Type, string? Param, string? Code);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(OpenAiErrorWriter.Envelope))]
internal sealed partial class EnvelopeJson : System.Text.Json.Serialization.JsonSerializerContext;
