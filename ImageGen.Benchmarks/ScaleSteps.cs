using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
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
internal sealed class ScaleSteps(Uri gateway, Uri api, NpgsqlDataSource pg, ProcessProbe probe, IReadOnlyList<BenchUser> users,
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

    /// <summary>
    /// Quests arrive at 6 a second from 8 users for 30 s, above what 8 slots of 1.6 s renders finish (about 4.5 a second),
    /// so the queue grows. Each quest's estimate is read right after its submit; for those that waited over 2 s, the
    /// spread of when they started against when the estimate said.
    /// </summary>
    private async Task EstimateSpreadAsync()
    {
        // Two minutes of endings are what the estimate divides by: a warm-up below capacity fills them.
        await ArriveAsync(rate: 3, TimeSpan.FromSeconds(20), users.Count / 4);
        var samples = await ArriveAsync(rate: 6, TimeSpan.FromSeconds(30), users.Count / 4);
        var waited = samples.Where(s => s.WaitedSeconds > 2 && s.EstimateSeconds is not null).ToList();
        var errors = waited.Select(s => s.WaitedSeconds - s.EstimateSeconds!.Value).ToList();
        var absolute = Summary.Of(errors.Select(Math.Abs));
        var ratios = waited.Select(s => s.WaitedSeconds / Math.Max(1, s.EstimateSeconds!.Value)).Order().ToList();
        double Ratio(double p) => ratios.Count == 0 ? double.NaN : ratios[Math.Min(ratios.Count - 1, (int)(p * ratios.Count))];
        Console.WriteLine($"start estimate, 6 quests/s against ~4.5/s of capacity for 30 s: {samples.Count} quests, {waited.Count} waited over 2 s; "
            + $"actual minus estimated start (s): p50 {Summary.Of(errors).P50:+0.0;-0.0}, |error| p50 {absolute.P50:0.0} p95 {absolute.P95:0.0} max {absolute.Max:0.0}; "
            + $"actual/estimated wait p10 {Ratio(0.1):0.00} p50 {Ratio(0.5):0.00} p90 {Ratio(0.9):0.00}");
        _report["startEstimate"] = new
        {
            quests = samples.Count,
            waitedOver2s = waited.Count,
            errorSeconds = Summary.Of(errors),
            absoluteErrorSeconds = absolute,
            ratioP10 = Ratio(0.1),
            ratioP50 = Ratio(0.5),
            ratioP90 = Ratio(0.9),
        };
    }

    private sealed record EstimateSample(double WaitedSeconds, double? EstimateSeconds);

    private async Task<List<EstimateSample>> ArriveAsync(double rate, TimeSpan duration, int userCount)
    {
        var quests = new List<Task<EstimateSample?>>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < duration; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            quests.Add(SubmitAndFollowAsync(users[i % userCount], i));
        }

        return [.. (await Task.WhenAll(quests)).OfType<EstimateSample>()];
    }

    private async Task<EstimateSample?> SubmitAndFollowAsync(BenchUser user, int i)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"estimate {i}", model = "local-sketch", width = 64, height = 64 });
        var quest = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<QuestDto>(json))!;
        var done = ended.GetOrAdd(quest.Id, _ => new TaskCompletionSource<Arrival>(TaskCreationOptions.RunContinuationsAsynchronously));
        var read = (await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{quest.Id}", json))!;
        await done.Task.WaitAsync(TimeSpan.FromMinutes(3));
        var final = (await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{quest.Id}", json))!;
        return final.StartedAt is { } started && read.Status == QuestStatus.Queued
            ? new EstimateSample((started - quest.CreatedAt).TotalSeconds, read.EstimatedStartSeconds)
            : null;
    }

    /// <summary>
    /// 10,000 quests waiting, of all 32 users (written straight to the database, not sent to the stream, and removed
    /// before the reconciler's minute would send them): a read of the last one's state, which counts its place, against
    /// a read of a finished quest, straight to the API, alternating.
    /// </summary>
    private async Task QueuePositionAsync()
    {
        var owner = users[0];
        var template = await FinishedQuestAsync(owner);
        var ids = users.Select(u => u.Id).ToArray();
        await using (var fill = pg.CreateCommand("""
            INSERT INTO quests
            SELECT (jsonb_populate_record(NULL::quests, to_jsonb(t) || jsonb_build_object(
                'id', gen_random_uuid(), 'user_id', ($2::uuid[])[1 + g % cardinality($2::uuid[])], 'prompt', 'queued filler ' || g,
                'status', 'Queued', 'progress', 0, 'charged', NULL, 'started_at', NULL, 'completed_at', NULL, 'attempts', 0,
                'created_at', now() - (10000 - g) * interval '1 millisecond', 'enqueued_at', now() - (10000 - g) * interval '1 millisecond'))).*
            FROM quests t, generate_series(1, 10000) g WHERE t.id = $1
            """))
        {
            fill.Parameters.Add(new NpgsqlParameter { Value = template });
            fill.Parameters.Add(new NpgsqlParameter { Value = ids });
            await fill.ExecuteNonQueryAsync();
        }

        try
        {
            await using var last = pg.CreateCommand("SELECT id FROM quests WHERE user_id = $1 AND status = 'Queued' ORDER BY enqueued_at DESC LIMIT 1");
            last.Parameters.Add(new NpgsqlParameter { Value = owner.Id });
            var waiting = (Guid)(await last.ExecuteScalarAsync())!;
            using var direct = Direct(owner);
            var figures = new Dictionary<string, object>();
            // First as the planner last saw the table (a short queue), then once it has counted this one, as
            // autovacuum's analyze does within a minute of so many new rows.
            foreach (var stats in new[] { "stale statistics", "analyzed" })
            {
                if (stats == "analyzed")
                {
                    await using var analyze = pg.CreateCommand("ANALYZE quests");
                    await analyze.ExecuteNonQueryAsync();
                }

                var (queued, finished) = (new List<double>(), new List<double>());
                QuestDto? read = null;
                for (var i = 0; i < 300; i++)
                {
                    read = await TimedReadAsync(direct, $"/api/quests/{waiting}", queued);
                    await TimedReadAsync(direct, $"/api/quests/{template}", finished);
                }

                var (q, f) = (Summary.Of(queued), Summary.Of(finished));
                Console.WriteLine($"queue position with 10,000 waiting ({stats}): GET /api/quests/{{id}} at the API, queued (position {read!.QueuePosition}) p50 {q.P50:0.00} "
                    + $"p95 {q.P95:0.00} ms, finished p50 {f.P50:0.00} p95 {f.P95:0.00} ms: the position costs {q.P50 - f.P50:0.00} ms at p50");
                figures[stats] = new { position = read.QueuePosition, queued = q, finished = f, costP50Ms = q.P50 - f.P50 };
            }

            _report["queuePosition"] = figures;
        }
        finally
        {
            await using var clear = pg.CreateCommand("DELETE FROM quests WHERE status = 'Queued' AND prompt LIKE 'queued filler %'");
            await clear.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// 100,000 finished quests of one image each in one account (written straight to the database, prompts from 40
    /// subjects and 25 places), then its first gallery page, its first quest page and searches for a common word
    /// (a 40th of the images) and a rare one, straight to the API.
    /// </summary>
    private async Task GalleryAsync()
    {
        var owner = users[1];
        var template = await FinishedQuestAsync(owner);
        var seeding = Stopwatch.StartNew();
        await using (var connection = await pg.OpenConnectionAsync())
        {
            string[] statements =
            [
                """
                CREATE TEMP TABLE seeded AS
                SELECT gen_random_uuid() AS id, g,
                    'a ' || (ARRAY['lighthouse','fox','harbour','glacier','tram','orchard','violin','comet','bakery','heron','canyon','teapot',
                        'lantern','meadow','robot','castle','owl','bridge','desert','kite','volcano','piano','garden','whale','forest','bicycle',
                        'tower','river','island','market','dragon','ferry','cottage','moon','sailboat','library','mountain','rabbit','train','cactus'])[1 + g % 40]
                    || ' in ' || (ARRAY['the rain','watercolour','the snow','neon light','oil paint','the fog','ink','pastel','the dawn','pixel art',
                        'charcoal','the dusk','clay','stained glass','the storm','chalk','gouache','the mist','woodcut','the sun','mosaic','the night',
                        'crayon','the wind','felt'])[1 + (g / 40) % 25] || ' number ' || g AS prompt,
                    now() - g * interval '1 minute' AS at
                FROM generate_series(1, 100000) g
                """,
                """
                INSERT INTO quests
                SELECT (jsonb_populate_record(NULL::quests, to_jsonb(t) || jsonb_build_object(
                    'id', s.id, 'prompt', s.prompt, 'created_at', s.at, 'enqueued_at', s.at, 'started_at', s.at, 'completed_at', s.at))).*
                FROM quests t, seeded s WHERE t.id = $1
                """,
                """
                INSERT INTO quest_images
                SELECT (jsonb_populate_record(NULL::quest_images, to_jsonb(i) || jsonb_build_object(
                    'id', gen_random_uuid(), 'quest_id', s.id, 'created_at', s.at, 'storage_key', i.storage_key || '-' || s.g))).*
                FROM quest_images i, seeded s WHERE i.quest_id = $1
                """,
                "DROP TABLE seeded",
                "ANALYZE quests",
                "ANALYZE quest_images",
            ];
            foreach (var statement in statements)
            {
                await using var command = new NpgsqlCommand(statement, connection) { CommandTimeout = 600 };
                if (statement.Contains("$1", StringComparison.Ordinal))
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = template });
                }

                await command.ExecuteNonQueryAsync();
            }
        }

        Console.WriteLine($"gallery: 100,000 images seeded in {seeding.Elapsed.TotalSeconds:0.0} s");
        using var direct = Direct(owner);
        string[] reads = ["/api/images?limit=24", "/api/quests?limit=20", "/api/images?limit=24&q=lighthouse", "/api/quests?limit=20&q=lighthouse",
            "/api/images?limit=24&q=number%2077777", "/api/images?limit=24&favorite=true", "/api/images?limit=24&model=local-sketch&status=Succeeded"];
        var times = reads.ToDictionary(r => r, _ => new List<double>());
        for (var i = 0; i < 200; i++)
        {
            foreach (var read in reads)
            {
                await TimedAsync(direct, read, times[read]);
            }
        }

        var figures = times.ToDictionary(t => t.Key, t => Summary.Of(t.Value));
        Console.WriteLine("gallery and search with 100,000 images in the account, at the API (p50/p95/p99/max ms):");
        foreach (var (read, summary) in figures)
        {
            Console.WriteLine($"  {read,-58} {summary}");
        }

        _report["gallery"] = new { images = 100_000, reads = figures };
    }

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
