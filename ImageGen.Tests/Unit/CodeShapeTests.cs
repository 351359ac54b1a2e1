using System.Reflection;
using ImageGen.Data.Quests;
using Microsoft.AspNetCore.Routing;

namespace ImageGen.Tests.Unit;

/// <summary>
/// Rules about where code lives, read from the services themselves: handlers stay signposts (a few parameters over one
/// request type and one services type), and one pipeline is the only way a quest is stored.
/// </summary>
public sealed class CodeShapeTests
{
    /// <summary>Route values, one request type, one services type, and what every handler may want besides (the context, a token).</summary>
    private const int MaxHandlerParameters = 6;

    [Fact]
    public void Every_api_handler_takes_at_most_six_parameters()
    {
        var handlers = ApiEndpointTable.Endpoints
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>() is not null)
            .Select(e => (Route: $"{e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods[0]} {e.RoutePattern.RawText}", Method: e.Metadata.GetMetadata<MethodInfo>()))
            .ToList();
        Assert.True(handlers.Count > 30, $"only {handlers.Count} handlers found: the table was not read");
        Assert.All(handlers, h => Assert.True(h.Method is not null, $"{h.Route} has no handler method to read"));

        var fat = handlers.Where(h => h.Method!.GetParameters().Length > MaxHandlerParameters)
            .Select(h => $"{h.Route} ({h.Method!.DeclaringType?.Name}.{h.Method.Name}: {h.Method.GetParameters().Length})").ToList();
        Assert.True(fat.Count == 0, "Handlers over six parameters: " + string.Join("; ", fat));
    }

    [Fact]
    public void Only_the_submit_pipeline_stores_a_new_quest()
    {
        var enqueue = typeof(QuestTransitions).GetMethod(nameof(QuestTransitions.EnqueueAsync))!;
        Assert.Equal(["ImageGen.Api.Services.QuestSubmission"], CallSites.CallersOf(enqueue, CallSites.Services));
    }

    [Fact]
    public void Every_surface_submits_through_the_pipeline()
    {
        var submit = typeof(Api.Services.QuestSubmission).GetMethod("SubmitAsync")!;
        Assert.Equal(["ImageGen.Api.Apis.AdminApi", "ImageGen.Api.Apis.OpenAiApi", "ImageGen.Api.Apis.QuestsApi"],
            CallSites.CallersOf(submit, CallSites.Services));
    }

    [Fact]
    public void The_call_site_reader_finds_calls_it_is_shown()
    {
        // The reader itself, on a method called from async handlers and lambdas alike: if it missed calls, the rules above would prove nothing.
        var validation = typeof(Api.Problems.ApiProblems).GetMethod("Validation", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!;
        var callers = CallSites.CallersOf(validation, CallSites.Services);
        Assert.Contains("ImageGen.Api.Apis.QuestsApi", callers);
        Assert.Contains("ImageGen.Api.Apis.AdminApi", callers);
    }
}
