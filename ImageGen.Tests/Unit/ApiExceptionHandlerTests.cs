using System.Text.Json;
using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImageGen.Tests.Unit;

/// <summary>
/// What a client sees when a request goes wrong: bad input names its field with a stable code, a storage outage is a
/// 503 that says nothing was saved, and anything else is a 500 that gives nothing of the server away.
/// </summary>
public sealed class ApiExceptionHandlerTests
{
    [Fact]
    public async Task Malformed_json_is_a_400_naming_the_field_where_it_broke()
    {
        var inner = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<Dictionary<string, object>>("{\"prompt\": "));

        var (context, problem) = await HandleAsync(new BadHttpRequestException("bad", inner));

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal(ErrorCodes.MalformedJson, problem.Extensions["code"]);
        Assert.Equal("prompt", problem.Extensions["field"]);
        Assert.Contains("line 1", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_value_that_does_not_parse_names_the_parameter_as_clients_write_it()
    {
        var (context, problem) = await HandleAsync(new BadHttpRequestException("Failed to bind parameter \"Nullable<int> Limit\" from \"abc\"."));

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal((ErrorCodes.InvalidType, "limit"), (problem.Extensions["code"], problem.Extensions["field"]));
    }

    [Fact]
    public async Task An_unreachable_store_is_a_503_with_a_retry_time()
    {
        var (context, problem) = await HandleAsync(new InvalidOperationException("wrapped",
            new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.UnableToConnect, "no redis")));

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(ErrorCodes.ServiceUnavailable, problem.Extensions["code"]);
        Assert.Contains("Nothing was saved", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anything_else_is_a_500_that_reveals_nothing_of_the_server()
    {
        var (context, problem) = await HandleAsync(new InvalidOperationException("connection string Host=db;Password=hunter2 failed at /srv/app"));

        Assert.Equal(500, context.Response.StatusCode);
        Assert.Equal(ErrorCodes.Internal, problem.Extensions["code"]);
        var written = JsonSerializer.Serialize(problem);
        Assert.DoesNotContain("hunter2", written, StringComparison.Ordinal);
        Assert.DoesNotContain("/srv/app", written, StringComparison.Ordinal);
    }

    private static async Task<(HttpContext Context, ProblemDetails Problem)> HandleAsync(Exception exception)
    {
        var problems = new CapturingProblemDetails();
        var context = new DefaultHttpContext();
        var handled = await new ApiExceptionHandler(problems, NullLogger<ApiExceptionHandler>.Instance)
            .TryHandleAsync(context, exception, TestContext.Current.CancellationToken);
        Assert.True(handled);
        return (context, problems.Written!);
    }

    private sealed class CapturingProblemDetails : IProblemDetailsService
    {
        public ProblemDetails? Written { get; private set; }

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            Written = context.ProblemDetails;
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryWriteAsync(ProblemDetailsContext context)
        {
            Written = context.ProblemDetails;
            return ValueTask.FromResult(true);
        }
    }
}
