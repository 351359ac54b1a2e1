// gpt-image quality levels and sizes are marked experimental in OpenAI 2.15.0; they are what users of gpt-image send.
#pragma warning disable OPENAI001

using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImageGen.Core.Quests;
using OpenAI;

namespace ImageGen.Tests.Graph;

/// <summary>Streamed generations: partial images as server-sent events, and asks streaming cannot meet refused before any charge.</summary>
public sealed partial class OpenAiCompatTests
{
    [Fact]
    public async Task A_streamed_generation_sends_partial_images_as_they_paint_then_the_image()
    {
        using var user = await graph.CreateUserAsync(Token);
        var client = Images(await KeyAsync(user), "local-sketch");

        // The typed streaming calls are experimental in the SDK; its own pipeline (with its key handling) reads the stream.
        using var message = client.Pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(client.Endpoint + "/images/generations");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromObjectAsJson(
            new { model = "local-sketch", prompt = "a lighthouse, streamed", size = "512x512", stream = true, partial_images = 2 }));
        message.BufferResponse = false;
        await client.Pipeline.SendAsync(message);

        Assert.Equal(200, message.Response!.Status);
        Assert.StartsWith("text/event-stream", message.Response.Headers.TryGetValue("Content-Type", out var type) ? type : "", StringComparison.Ordinal);
        var events = await ReadEventsAsync(message.Response.ContentStream!);
        Assert.Equal(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"], events.Select(e => e.Name));
        Assert.Equal([0, 1], events.Take(2).Select(e => e.Data.GetProperty("partial_image_index").GetInt32()));
        foreach (var partial in events.Take(2))
        {
            var frame = Convert.FromBase64String(partial.Data.GetProperty("b64_json").GetString()!);
            Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(frame, 8, 4));
        }

        var completed = events[^1].Data;
        Assert.Equal("image_generation.completed", completed.GetProperty("type").GetString());
        Assert.Equal((512, 512), PngSize(Convert.FromBase64String(completed.GetProperty("b64_json").GetString()!)));
    }

    [Fact]
    public async Task Streaming_asks_that_cannot_be_met_are_refused_before_anything_is_charged()
    {
        using var user = await graph.CreateUserAsync(Token);
        using var http = Raw(await KeyAsync(user));

        using var tooMany = await http.PostAsJsonAsync("/v1/images/generations", new { model = "local-sketch", prompt = "x", stream = true, partial_images = 4 }, Token);
        Assert.Equal(("partial_images", "invalid_value"), await ErrorAsync(tooMany, HttpStatusCode.BadRequest));
        using var withoutStream = await http.PostAsJsonAsync("/v1/images/generations", new { model = "local-sketch", prompt = "x", partial_images = 1 }, Token);
        Assert.Equal(("partial_images", "invalid_value"), await ErrorAsync(withoutStream, HttpStatusCode.BadRequest));
        var quests = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests", GraphFixture.Json, Token);
        Assert.Empty(quests!.Items);
    }

    private sealed record ServerEvent(string Name, JsonElement Data);

    /// <summary>Server-sent events as a client reads them: "event:" and "data:" lines, a blank line ends each.</summary>
    private static async Task<List<ServerEvent>> ReadEventsAsync(Stream stream)
    {
        var events = new List<ServerEvent>();
        using var reader = new StreamReader(stream);
        string? name = null;
        var data = new System.Text.StringBuilder();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Token);
        bound.CancelAfter(GraphFixture.QuestTimeout);
        while (await reader.ReadLineAsync(bound.Token) is { } line)
        {
            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                name = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line["data:".Length..].Trim());
            }
            else if (line.Length == 0 && data.Length > 0)
            {
                events.Add(new ServerEvent(name ?? "message", JsonDocument.Parse(data.ToString()).RootElement.Clone()));
                (name, data) = (null, data.Clear());
            }
        }

        return events;
    }
}
