using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ImageGen.Core.Quests;

namespace ImageGen.Api.Apis;

/// <summary>The streamed form of <c>/v1/images/generations</c> and <c>/edits</c>: OpenAI's server-sent events.</summary>
internal static partial class OpenAiApi
{
    /// <summary>
    /// A streamed generation: up to <c>partial_images</c> preview frames as they arrive (WebP, at most 256 px; the local
    /// renderer makes them, providers that have none send none), then the image, or an error event.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<OpenAiImageStreamEvent>> StreamAsync(
        Guid questId, Guid userId, OpenAiImageRequest request, string eventPrefix, HttpContext context, OpenAiServices services,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (waiters, options) = (services.Waiters, services.Options.Value);
        string partial = $"{eventPrefix}.partial_image", completed = $"{eventPrefix}.completed";
        var frames = Channel.CreateUnbounded<string>();
        using var watch = waiters.WatchFrames(questId, frame => frames.Writer.TryWrite(frame));
        var end = waiters.WaitForEndAsync(services.Db, questId, userId, options.MaxWait, cancellationToken);
        var wanted = request.PartialImages ?? 0;
        var sent = 0;
        while (!end.IsCompleted)
        {
            if (await Task.WhenAny(frames.Reader.WaitToReadAsync(cancellationToken).AsTask(), end) == end)
            {
                break;
            }

            while (frames.Reader.TryRead(out var frame))
            {
                if (sent < wanted)
                {
                    var webp = frame[(frame.IndexOf(',', StringComparison.Ordinal) + 1)..];
                    yield return new SseItem<OpenAiImageStreamEvent>(new OpenAiImageStreamEvent(partial, webp,
                        services.Time.GetUtcNow().ToUnixTimeSeconds(), OutputFormat: "webp", PartialImageIndex: sent), partial);
                    sent++;
                }
            }
        }

        var quest = await end;
        if (quest is { Status: QuestStatus.Succeeded })
        {
            var answer = await AnswerAsync(quest, request with { ResponseFormat = null }, context, services, cancellationToken);
            yield return new SseItem<OpenAiImageStreamEvent>(new OpenAiImageStreamEvent(completed, answer.Data[0].B64Json,
                answer.Created, answer.Size, answer.Quality, answer.Background, answer.OutputFormat), completed);
            yield break;
        }

        var (status, code, message) = quest is null || !quest.Status.IsTerminal()
            ? (StatusCodes.Status504GatewayTimeout, "still_running", $"The generation is still running after {options.MaxWait.TotalSeconds:0} s; it lands in your gallery as quest {questId}.")
            : FailureOf(quest);
        var openAiCode = ServiceDefaults.OpenAiErrorWriter.CodeFor(code);
        yield return new SseItem<OpenAiImageStreamEvent>(new OpenAiImageStreamEvent("error",
            Error: new OpenAiStreamError(message, ServiceDefaults.OpenAiErrorWriter.TypeFor(status, openAiCode), null, openAiCode)), "error");
    }
}
