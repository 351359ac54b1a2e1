using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImageGen.Benchmarks;

/// <summary>Many live watchers on the API's hub.</summary>
internal sealed partial class ScaleSteps
{
    /// <summary>
    /// <paramref name="count"/> live connections to the API's hub, spread over the 32 users, half through the gateway
    /// and half through the graph's proxy in front of the API: a proxied connection holds two descriptors in the proxy,
    /// and this machine allows a process 20,000, so 10,000 through one proxy would not fit. Then: the API's memory per
    /// connection, its CPU while nothing happens, and, while 4 users make a quest a second each for 15 s, how long each
    /// event took from the worker's publish to each of that user's connections.
    /// </summary>
    private async Task WatchersAsync(int count)
    {
        var before = ApiSample();
        var latencies = new ConcurrentBag<double>();
        var measuring = false;
        var connections = new HubConnection[count];
        var (retried, failed) = (0, 0);
        var connecting = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(64))
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var user = users[i % users.Count];
                    var hub = new HubConnectionBuilder().WithUrl(new Uri(i % 2 == 0 ? gateway : api, "/hubs/quests"), o =>
                        {
                            o.SkipNegotiation = true;
                            o.Transports = HttpTransportType.WebSockets;
                            o.AccessTokenProvider = () => Task.FromResult<string?>(user.Token);
                        })
                        .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter())).Build();
                    hub.On<QuestEvent>("questEvent", evt =>
                    {
                        if (Volatile.Read(ref measuring))
                        {
                            latencies.Add((DateTimeOffset.UtcNow - evt.PublishedAt).TotalMilliseconds);
                        }
                    });
                    for (var attempt = 1; ; attempt++)
                    {
                        try
                        {
                            await hub.StartAsync();
                            break;
                        }
                        catch (Exception e) when (e is HttpRequestException or System.Net.WebSockets.WebSocketException)
                        {
                            if (attempt == 3)
                            {
                                Interlocked.Increment(ref failed);
                                await hub.DisposeAsync();
                                return;
                            }

                            Interlocked.Increment(ref retried);
                            await Task.Delay(500);
                        }
                    }

                    connections[i] = hub;
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var connectSeconds = connecting.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var after = ApiSample();
        var perConnectionKb = (after.RssMb - before.RssMb) * 1024 / (count - failed);

        double idleApi, idleClient;
        using (var idle = probe.StartCpuMeter())
        {
            var watch = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(20));
            var spent = idle.PerUnit(watch.Elapsed.TotalSeconds, 1e3);
            idleApi = spent.Where(p => p.Key.StartsWith("ImageGen.Api", StringComparison.Ordinal)).Sum(p => p.Value);
            idleClient = spent[CpuMeter.Client];
        }

        Volatile.Write(ref measuring, true);
        double busyApi;
        using (var busy = probe.StartCpuMeter())
        {
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(users.Take(4).Select(async user =>
            {
                var quests = new List<Task>();
                for (var i = 0; i < 15; i++)
                {
                    quests.Add(Task.Run(async () =>
                    {
                        using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"watched {i}", model = "local-sketch", width = 64, height = 64 });
                        var quest = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<QuestDto>(json))!;
                        await ended.GetOrAdd(quest.Id, _ => new TaskCompletionSource<Arrival>(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(TimeSpan.FromMinutes(2));
                    }));
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }

                await Task.WhenAll(quests);
            }));
            await Task.Delay(TimeSpan.FromSeconds(2));
            busyApi = busy.PerUnit(watch.Elapsed.TotalSeconds, 1e3).Where(p => p.Key.StartsWith("ImageGen.Api", StringComparison.Ordinal)).Sum(p => p.Value);
        }

        Volatile.Write(ref measuring, false);
        var fanOut = Summary.Of(latencies);
        Console.WriteLine($"{count:N0} hub connections (connected in {connectSeconds:0.0} s, {retried} connect(s) retried, {failed} failed, {users.Count} users): API RSS {before.RssMb:0} -> {after.RssMb:0} MB "
            + $"({perConnectionKb:0.0} KB a connection); idle CPU: API {idleApi:0.0} ms/s, client {idleClient:0.0} ms/s; 60 quests of 4 users over 15 s: "
            + $"{fanOut.Count:N0} events delivered, publish to client p50 {fanOut.P50:0.0} p99 {fanOut.P99:0.0} max {fanOut.Max:0.0} ms, API CPU {busyApi:0} ms/s");
        _report[$"watchers{count}"] = new
        {
            connections = count,
            connectSeconds,
            retried,
            failed,
            apiRssBeforeMb = before.RssMb,
            apiRssAfterMb = after.RssMb,
            perConnectionKb,
            idleApiCpuMsPerSecond = idleApi,
            idleClientCpuMsPerSecond = idleClient,
            busyApiCpuMsPerSecond = busyApi,
            fanOutMs = fanOut,
        };

        await Task.WhenAll(connections.Where(c => c is not null).Select(async c => await c.DisposeAsync()));
    }

    private ProcessSample ApiSample() => probe.Sample().Where(p => p.Key.StartsWith("ImageGen.Api", StringComparison.Ordinal))
        .Aggregate(new ProcessSample(0, 0), (sum, p) => new ProcessSample(sum.RssMb + p.Value.RssMb, sum.CpuSeconds + p.Value.CpuSeconds));
}
