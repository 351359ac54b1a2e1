using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.SignalR.Client;
using SkiaSharp;

namespace ImageGen.Tests.Graph;

public sealed class QuestFlowTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_quest_streams_ordered_progress_then_succeeds_with_a_png_of_the_requested_size()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var hub = await graph.ConnectHubAsync(user, Token);
        var recorder = new EventRecorder(hub);

        using var response = await user.Client.PostAsJsonAsync("/api/quests",
            new { prompt = "a lighthouse on a cliff at night", model = "local-sketch", width = 320, height = 192, seed = 42 }, Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var created = await graph.ReadAsync<QuestDto>(response, Token);
        Assert.Equal($"/api/quests/{created.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(QuestStatus.Queued, created.Status);
        Assert.Equal((320, 192, 42L), (created.Width, created.Height, created.Seed));
        Assert.Empty(created.Images);

        var snapshot = await hub.InvokeAsync<QuestDto>("Subscribe", created.Id, Token);
        Assert.Equal(created.Id, snapshot?.Id);

        var terminal = await recorder.Terminal(GraphFixture.QuestTimeout, Token);
        Assert.Equal(QuestStatus.Succeeded, terminal.Status);

        var events = recorder.Events.Where(e => e.QuestId == created.Id).ToList();
        // Each event is newer than the last, and the eight painting steps arrive in order before the end.
        Assert.Equal(events.Select(e => e.Sequence).Order(), events.Select(e => e.Sequence));
        var steps = events.Where(e => e.Status == QuestStatus.Running && e.Step > 0).ToList();
        Assert.Equal(Enumerable.Range(1, 8), steps.Select(e => e.Step));
        Assert.All(steps, e => Assert.StartsWith("Now painting", e.StatusText, StringComparison.Ordinal));
        Assert.Equal(steps.Select(e => e.Progress).Order(), steps.Select(e => e.Progress));
        Assert.Same(terminal, events[^1]);

        // The picture forms: steps carry small WebP frames of the picture so far (the last step does not: the image follows).
        var frames = steps.Where(e => e.Preview is not null).ToList();
        Assert.True(frames.Count >= 2, $"{frames.Count} preview frames");
        Assert.Null(steps[^1].Preview);
        Assert.All(frames, e =>
        {
            Assert.StartsWith("data:image/webp;base64,", e.Preview, StringComparison.Ordinal);
            using var frame = SKBitmap.Decode(Convert.FromBase64String(e.Preview!["data:image/webp;base64,".Length..]));
            Assert.Equal((256, 154), (frame.Width, frame.Height));
        });
        Assert.Null(terminal.Preview);

        var image = Assert.Single(terminal.Quest!.Images);
        // The URL is signed: it works without credentials, as an <img> tag needs.
        using var download = await graph.Gateway.GetAsync(image.Url, Token);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("image/png", download.Content.Headers.ContentType?.MediaType);
        var bytes = await download.Content.ReadAsByteArrayAsync(Token);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.Equal((320, 192), (bitmap.Width, bitmap.Height));

        // Polling gives the same final state as the live events.
        var polled = await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{created.Id}", GraphFixture.Json, Token);
        Assert.Equal(QuestStatus.Succeeded, polled!.Status);
        Assert.Equal(1.0, polled.Progress);
        Assert.Equal(image.Id, Assert.Single(polled.Images).Id);
        Assert.NotNull(polled.CompletedAt);
    }

    [Fact]
    public async Task Prefer_wait_answers_with_the_finished_quest_or_202_when_it_takes_longer()
    {
        using var user = await graph.CreateUserAsync(TestContext.Current.CancellationToken);
        async Task<HttpResponseMessage> SubmitAsync(string prefer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/quests")
            {
                Content = JsonContent.Create(new { prompt = "waited for", model = "local-sketch", width = 64, height = 64 }),
            };
            request.Headers.Add("Prefer", prefer);
            return await user.Client.SendAsync(request, TestContext.Current.CancellationToken);
        }

        // Eight painting steps of 150 ms cannot end within one second; they end well within 30.
        using var quick = await SubmitAsync("wait=1");
        Assert.Equal(HttpStatusCode.Accepted, quick.StatusCode);
        Assert.Equal("wait=1", quick.Headers.GetValues("Preference-Applied").Single());

        using var waited = await SubmitAsync("respond-async, wait=30");
        Assert.Equal(HttpStatusCode.OK, waited.StatusCode);
        var quest = await graph.ReadAsync<QuestDto>(waited, TestContext.Current.CancellationToken);
        Assert.Equal(QuestStatus.Succeeded, quest.Status);
        Assert.Single(quest.Images);

        using var greedy = await SubmitAsync("wait=3600");
        Assert.Equal("wait=60", greedy.Headers.GetValues("Preference-Applied").Single());
    }

    [Fact]
    public async Task The_same_prompt_and_seed_give_the_same_image_bytes()
    {
        using var user = await graph.CreateUserAsync(Token);
        var request = new { prompt = "twin peaks over still water", model = "local-sketch", width = 128, height = 128, seed = 7 };
        var first = await graph.CreateAndWaitAsync(user, request, Token);
        var second = await graph.CreateAndWaitAsync(user, request, Token);

        Assert.NotEqual(first.Id, second.Id);
        var a = await graph.Gateway.GetByteArrayAsync(first.Images[0].Url, Token);
        var b = await graph.Gateway.GetByteArrayAsync(second.Images[0].Url, Token);
        Assert.Equal(a, b);
    }

    [Fact]
    public async Task A_client_connecting_while_it_paints_gets_the_latest_frame_with_the_state()
    {
        using var user = await graph.CreateUserAsync(Token);
        await using var watcher = await graph.ConnectHubAsync(user, Token);
        var firstFrame = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.On<ImageGen.Core.Messaging.QuestEvent>("questEvent", e =>
        {
            if (e.Preview is not null)
            {
                firstFrame.TrySetResult();
            }
        });

        var quest = await graph.ReadAsync<QuestDto>(await user.Client.PostAsJsonAsync("/api/quests",
            new { prompt = "seen from the middle", model = "local-sketch", width = 512, height = 512 }, Token), Token);
        await firstFrame.Task.WaitAsync(GraphFixture.QuestTimeout, Token);

        // Another connection (perhaps to the other API instance) and a poll, both after the first frame.
        await using var late = await graph.ConnectHubAsync(user, Token);
        var snapshot = await late.InvokeAsync<QuestDto>("Subscribe", quest.Id, Token);
        var polled = await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{quest.Id}", GraphFixture.Json, Token);
        foreach (var seen in new[] { snapshot, polled! })
        {
            if (seen.Status == QuestStatus.Running)
            {
                Assert.StartsWith("data:image/webp;base64,", seen.Preview, StringComparison.Ordinal);
            }
            else
            {
                // It ended meanwhile: no frame is kept with a finished quest.
                Assert.Null(seen.Preview);
            }
        }

        var ended = await graph.WaitForEndAsync(user, quest.Id, Token);
        Assert.Null(ended.Preview);
    }

    [Fact]
    public async Task A_late_subscriber_gets_the_current_state_at_once()
    {
        using var user = await graph.CreateUserAsync(Token);
        var done = await graph.CreateAndWaitAsync(user, new { prompt = "a late look", model = "local-sketch", width = 64, height = 64 }, Token);

        await using var hub = await graph.ConnectHubAsync(user, Token);
        var snapshot = await hub.InvokeAsync<QuestDto>("Subscribe", done.Id, Token);

        Assert.Equal(QuestStatus.Succeeded, snapshot!.Status);
        Assert.Single(snapshot.Images);
    }

    [Fact]
    public async Task Recent_quests_list_newest_first_in_pages_that_do_not_overlap()
    {
        using var user = await graph.CreateUserAsync(Token);
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"page test {i}", model = "local-sketch", width = 64, height = 64 }, Token);
            ids.Add((await graph.ReadAsync<QuestDto>(response, Token)).Id);
        }

        var first = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests?limit=2", GraphFixture.Json, Token);
        Assert.Equal([ids[2], ids[1]], first!.Items.Select(q => q.Id));
        Assert.NotNull(first.NextCursor);

        var second = await user.Client.GetFromJsonAsync<QuestPage>($"/api/quests?limit=2&cursor={first.NextCursor}", GraphFixture.Json, Token);
        Assert.Equal([ids[0]], second!.Items.Select(q => q.Id));
        Assert.Null(second.NextCursor);
    }
}
