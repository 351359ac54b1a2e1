using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ImageGen.Core.Quests;
using Npgsql;

namespace ImageGen.Benchmarks;

/// <summary>One user of the benchmark: a client through the gateway, its bearer token and its id.</summary>
internal sealed record BenchUser(HttpClient Client, string Token, Guid Id);

/// <summary>
/// The figures that need data at scale rather than a load (<c>--scale</c>): how good the queue's start estimate is
/// with a slow provider, what the queue position costs with 10,000 quests waiting, the gallery and search with
/// 100,000 images in one account, and many live watchers. The graph renders at 64 px in 8 steps of 200 ms (a slow
/// provider: 1.6 s an image) on 2 workers of 4 slots, under the fair-share rule (4 running per user).
/// </summary>
internal sealed partial class ScaleSteps(Uri gateway, Uri api, NpgsqlDataSource pg, ProcessProbe probe, IReadOnlyList<BenchUser> users,
    ConcurrentDictionary<Guid, TaskCompletionSource<Arrival>> ended, JsonSerializerOptions json)
{
    /// <summary>
    /// The API listens on its own port, not behind the graph's development proxy: 10,000 connections through that proxy
    /// are 20,000 descriptors in one process, this machine's limit, and a deployment has no such proxy.
    /// </summary>
    public static void ServeApiDirectly(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var endpoint in builder.Resources.Single(r => r.Name == "api").Annotations.OfType<EndpointAnnotation>())
        {
            endpoint.IsProxied = false;
            endpoint.Port = endpoint.TargetPort = FreePort();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static readonly string[] GraphSettings = ["ImageGen:Worker:RenderStepDelay=00:00:00.200", "ImageGen:Worker:MaxConcurrency=4", "ImageGen:Worker:MaxRunningPerUser=4"];

    private readonly Dictionary<string, object> _report = [];

    public async Task<Dictionary<string, object>> RunAsync(IReadOnlyCollection<string> steps)
    {
        if (steps.Contains("estimate"))
        {
            await EstimateSpreadAsync();
        }

        if (steps.Contains("position"))
        {
            await QueuePositionAsync();
        }

        if (steps.Contains("gallery"))
        {
            await GalleryAsync();
        }

        if (steps.Contains("watchers"))
        {
            foreach (var count in new[] { 1_000, 10_000 })
            {
                await WatchersAsync(count);
            }
        }

        return _report;
    }

    private async Task<Guid> FinishedQuestAsync(BenchUser user)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = "a template", model = "local-sketch", width = 64, height = 64 });
        var quest = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<QuestDto>(json))!;
        await ended.GetOrAdd(quest.Id, _ => new TaskCompletionSource<Arrival>(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(TimeSpan.FromMinutes(1));
        return quest.Id;
    }

    private HttpClient Direct(BenchUser user)
    {
        var client = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        return client;
    }

    private async Task<QuestDto> TimedReadAsync(HttpClient client, string path, List<double> times)
    {
        var t = Stopwatch.GetTimestamp();
        var quest = (await client.GetFromJsonAsync<QuestDto>(path, json))!;
        times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        return quest;
    }

    private static async Task TimedAsync(HttpClient client, string path, List<double> times)
    {
        var t = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(path);
        await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync();
        times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    }
}
