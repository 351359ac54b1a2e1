using System.Net;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Tests.Graph;
using ImageGen.Worker.Providers;
using Microsoft.Extensions.Options;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The Midjourney proxy has no cancel either: a job stopped here is watched, with the proxy's secret sent to the proxy
/// only, until the proxy says it ended, so its slot (3 per account) is not handed to the next quest while it still runs.
/// </summary>
public sealed class MidjourneyWatchTests : IDisposable
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private readonly LoopbackHttpServer _proxy = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
    private int _fetches;
    private int _secretless;
    private volatile string _status = "IN_PROGRESS";

    public MidjourneyWatchTests() => _proxy.Answer = AnswerAsync;

    [Fact]
    public async Task A_job_stopped_here_is_watched_until_the_proxy_ends_it_and_no_longer()
    {
        var options = new ProviderOptions
        {
            Midjourney = new MidjourneyAccountOptions { Endpoint = new Uri(_proxy.Address), ApiKey = "mj-secret" },
            PollMinInterval = TimeSpan.FromMilliseconds(10),
            PollMaxInterval = TimeSpan.FromMilliseconds(20),
        };
        var provider = new MidjourneyImageProvider(_http, Options.Create(options));
        Assert.True(ModelCatalog.Default.TryGet("midjourney", out var model));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var left = await Assert.ThrowsAsync<ProviderJobLeftRunning>(() => provider.GenerateAsync(new ProviderRequest
        {
            QuestId = Guid.NewGuid(),
            Prompt = "a fox",
            Model = model!,
            Parameters = new QuestParameters(),
            OnJobAccepted = (_, _, _, _) =>
            {
                stop.Cancel();
                return Task.CompletedTask;
            },
        }, stop.Token));

        var seen = Volatile.Read(ref _fetches);
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref _fetches) >= seen + 3), TimeSpan.FromSeconds(10));
        Assert.False(left.Ended.IsCompleted);

        _status = "SUCCESS";
        await left.Ended.WaitAsync(TimeSpan.FromSeconds(10), Token);
        var last = Volatile.Read(ref _fetches);
        await Task.Delay(200, Token);
        Assert.Equal(last, Volatile.Read(ref _fetches));
        Assert.Equal(0, Volatile.Read(ref _secretless));
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        await context.Request.InputStream.CopyToAsync(Stream.Null);
        if (context.Request.Headers["mj-api-secret"] != "mj-secret")
        {
            Interlocked.Increment(ref _secretless);
        }

        object answer = context.Request.Url!.AbsolutePath == "/mj/submit/imagine"
            ? new { code = 1, description = "Submitted", result = "task-1" }
            : new { id = "task-1", status = CountFetch(), progress = "40%" };
        await LoopbackHttpServer.WriteJsonAsync(context.Response, answer);
    }

    private string CountFetch()
    {
        Interlocked.Increment(ref _fetches);
        return _status;
    }

    public void Dispose()
    {
        _proxy.Dispose();
        _http.Dispose();
    }
}
