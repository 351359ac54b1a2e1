using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ImageGen.Benchmarks;
using ImageGen.Core.Accounts;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

// The whole pipeline under load: the graph in this build's configuration (run it with -c Release), the local
// renderer at 64x64 with no pacing, so the platform and not the painting is measured.
// Postgres keeps every commit (fsync, synchronous_commit, full_page_writes on), as a deployment does; --non-durable
// turns them off, for the cheaper floor earlier figures were measured on.
var durable = !args.Contains("--non-durable");
// --scale[=estimate,position,gallery,watchers]: instead of the load, the figures that need data at scale (ScaleSteps).
var scaleSteps = args.FirstOrDefault(a => a.StartsWith("--scale", StringComparison.Ordinal)) is { } scaleArg
    ? (scaleArg.Contains('=') ? scaleArg[(scaleArg.IndexOf('=') + 1)..] : "estimate,position,gallery,watchers").Split(',')
    : null;
args = [.. args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))];
args = [.. args.Where(a => a != "--non-durable")];
var levels = args.Length > 0 ? args[0].Split(',').Select(int.Parse).ToArray() : [1, 8, 32, 128];
var levelDuration = TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1]) : 10);
var arrivalRate = args.Length > 2 ? int.Parse(args[2]) : 50;
var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
const string AdminPassword = "Bench-Admin-Passw0rd";

Console.WriteLine(scaleSteps is null
    ? $"ImageGen pipeline benchmark: {Environment.ProcessorCount} cores, levels {string.Join(", ", levels)} then {arrivalRate} quests/s arriving, {levelDuration.TotalSeconds:0} s each, Postgres {(durable ? "durable" : "NOT durable (--non-durable)")}"
    : $"ImageGen at scale: {Environment.ProcessorCount} cores, steps {string.Join(", ", scaleSteps)}, Postgres {(durable ? "durable" : "NOT durable (--non-durable)")}");
var startWatch = Stopwatch.StartNew();
var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ImageGen_AppHost>(
[
    "ImageGen:Ephemeral=true", "ImageGen:Infrastructure=local", "ImageGen:GatewayPort=0", $"ImageGen:Postgres:Durable={durable}",
    "ImageGen:Worker:RenderStepDelay=00:00:00", "ImageGen:Worker:MaxConcurrency=16",
    "Parameters:admin-email=admin@bench.test", $"Parameters:admin-password={AdminPassword}",
    "Parameters:image-signing-key=bench-signing-key-0123456789abcdef",
    "ImageGen:RateLimits:LoginBurst=100000", "ImageGen:RateLimits:LoginsPerMinute=100000",
    "ImageGen:RateLimits:SubmitBurst=100000", "ImageGen:RateLimits:SubmitsPerMinute=1000000",
    // Every client comes from one address here: the per-address limits would measure themselves.
    "ImageGen:RateLimits:AddressSubmitBurst=100000", "ImageGen:RateLimits:AddressSubmitsPerMinute=1000000",
    "ImageGen:RateLimits:ImageBurst=1000000", "ImageGen:RateLimits:ImagesPerMinute=1000000",
    "ImageGen:RateLimits:HubConnectBurst=100000", "ImageGen:RateLimits:HubConnectsPerMinute=1000000",
    "ImageGen:RateLimits:SignupsPerDay=100000",
    "ImageGen:RateLimits:ReadBurst=1000000", "ImageGen:RateLimits:ReadsPerMinute=10000000",
    "ImageGen:RateLimits:WriteBurst=100000", "ImageGen:RateLimits:WritesPerMinute=1000000",
    "ImageGen:RateLimits:HubCallBurst=1000000", "ImageGen:RateLimits:HubCallsPerMinute=10000000",
    "ImageGen:RateLimits:HubConnectionsPerUser=100000",
    // The pipeline's capacity, not the fair-share limit (128 clients are 4 per user anyway).
    "ImageGen:Worker:MaxRunningPerUser=10000",
    .. scaleSteps is null ? [] : ScaleSteps.GraphSettings,
]);
// The graph's start-up noise (health checks failing until a service is up, Postgres's stderr) is not the figures.
builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Error)
    .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
    .AddFilter("ImageGen.AppHost.Resources", LogLevel.None));
foreach (var project in builder.Resources.OfType<ProjectResource>())
{
    builder.CreateResourceBuilder(project).WithEnvironment(c =>
    {
        c.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        // BENCH_ENV="NAME=value;NAME=value": runtime settings to compare (docs/benchmarks.md).
        foreach (var setting in (Environment.GetEnvironmentVariable("BENCH_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = setting.IndexOf('=', StringComparison.Ordinal) is > 0 and var at ? (setting[..at], setting[(at + 1)..])
                : throw new ArgumentException($"BENCH_ENV: '{setting}' is not NAME=value");
            c.EnvironmentVariables[name] = value;
        }
    });
}

if (scaleSteps is not null)
{
    ScaleSteps.ServeApiDirectly(builder);
}

await using var app = await builder.BuildAsync();
await app.StartAsync();
foreach (var service in (string[])["api", "worker", "web", "gateway"])
{
    await app.ResourceNotifications.WaitForResourceHealthyAsync(service).WaitAsync(TimeSpan.FromMinutes(3));
}

Console.WriteLine($"graph started in {startWatch.Elapsed.TotalSeconds:0.0} s");

var gateway = app.GetEndpoint("gateway", "http");
var apiDirect = app.GetEndpoint("api", "http");
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
var redisConnection = (await app.GetConnectionStringAsync("redis"))!;
var probe = new ProcessProbe(redisConnection,
    new NpgsqlConnectionStringBuilder(await app.GetConnectionStringAsync("imagegen-db")).Port,
    ConfigurationOptions.Parse(redisConnection).EndPoints[0] switch { System.Net.IPEndPoint ip => ip.Port, System.Net.DnsEndPoint dns => dns.Port, _ => 0 });
var idleRss = probe.Sample().ToDictionary(p => p.Key, p => p.Value.RssMb);
var redis = await ConnectionMultiplexer.ConnectAsync(redisConnection + ",allowAdmin=true");
await using var pg = NpgsqlDataSource.Create((await app.GetConnectionStringAsync("imagegen-db"))!);
var roundTrips = new RoundTripProbe(pg, redis.GetServers()[0]);
// Statements and commands are counted at 32 clients (or the last level when 32 is not run).
var countedLevel = levels.Contains(32) ? 32 : levels[^1];
(List<RoundTrips> Postgres, List<RoundTrips> Redis)? counted = null;

// 32 users whatever the levels, each with plenty of credits and one hub connection: up to 32 clients each is a user
// of its own, at 128 every user has 4 clients (tabs) submitting at once. A level's figures do not depend on which
// other levels run (a user's submits take turns on the account lock).
const int userCount = 32;
var admin = await LoginAsync("admin@bench.test", AdminPassword);
var users = new List<(HttpClient Client, HubConnection Hub)>();
var benchUsers = new List<BenchUser>();
var waiting = new ConcurrentDictionary<Guid, TaskCompletionSource<Arrival>>();
var progressLatencies = new ConcurrentBag<double>();
for (var i = 0; i < userCount; i++)
{
    var email = $"bench-{i}-{Guid.NewGuid():N}@bench.test";
    (await http.PostAsJsonAsync("/api/auth/register", new { email, password = AdminPassword })).EnsureSuccessStatusCode();
    var client = await LoginAsync(email, AdminPassword);
    var me = (await client.GetFromJsonAsync<MeDto>("/api/me", json))!;
    (await admin.PostAsJsonAsync($"/api/admin/users/{me.Id}/credits", new { kind = "grant", amount = 1_000_000, reason = "benchmark" })).EnsureSuccessStatusCode();
    var token = client.DefaultRequestHeaders.Authorization!.Parameter;
    var hub = new HubConnectionBuilder().WithUrl(new Uri(gateway, "/hubs/quests"), o =>
        {
            o.SkipNegotiation = true;
            o.Transports = HttpTransportType.WebSockets;
            o.AccessTokenProvider = () => Task.FromResult(token);
        })
        .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter())).Build();
    hub.On<QuestEvent>("questEvent", evt =>
    {
        progressLatencies.Add((DateTimeOffset.UtcNow - evt.PublishedAt).TotalMilliseconds);
        if (evt.Status.IsTerminal())
        {
            // The end can arrive before the submit's answer does (no pacing at 64x64): keep it for the waiter.
            waiting.GetOrAdd(evt.QuestId, _ => new TaskCompletionSource<Arrival>(TaskCreationOptions.RunContinuationsAsynchronously))
                .TrySetResult(new Arrival(evt, DateTimeOffset.UtcNow));
        }
    });
    await hub.StartAsync();
    users.Add((client, hub));
    benchUsers.Add(new BenchUser(client, token!, me.Id));
}

if (scaleSteps is not null)
{
    var scaleReport = await new ScaleSteps(gateway, apiDirect, pg, probe, benchUsers, waiting, json).RunAsync(scaleSteps);
    await File.WriteAllTextAsync("bench-scale-results.json", JsonSerializer.Serialize(scaleReport, new JsonSerializerOptions(json) { WriteIndented = true }));
    Console.WriteLine("written: bench-scale-results.json");
    foreach (var user in users)
    {
        await user.Hub.DisposeAsync();
    }

    await app.StopAsync();
    return;
}

var results = new List<object>();
Console.WriteLine();
Console.WriteLine("level  quests  lost  quests/s | submit p50/p95/p99/max (ms)     | end-to-end p50/p95/p99/max (ms) | overhead p50/p95/p99/max (ms)   | progress p50/p95/p99/max (ms)");
Dictionary<string, double>? loadRss = null;
var stageRows = new List<string>();
var cpuPerQuest = new Dictionary<string, Dictionary<string, double>>();
// The closed levels (each client submits again when its quest ends) measure how the platform queues at and past its
// capacity; then quests arrive at a fixed rate whatever the answers (an open loop): the latency below capacity.
var measured = levels.Select(level => new Phase($"{level}", level, null, levelDuration, Reported: true))
    .Append(new Phase($"{arrivalRate}/s", 0, arrivalRate, levelDuration, Reported: true)).ToList();
// A warm-up first, not reported: every phase for 5 s in turn, for at least 30 s, then more rounds until the services'
// background compilers have settled (under 2 % of the services' CPU over a round; at most 4 minutes). Until the hot
// paths are recompiled at the JIT's optimizing tier the same load costs more (level 1 measured three times in a row
// from a 5 s warm-up: overhead p50 54.9, 41.1, 19.9 ms; at 32 clients after 30 s, the compiler threads still took 13 %
// of the api's and the workers' CPU), and each phase exercises paths of its own.
var warmUpRound = measured.Select(phase => phase with { Duration = TimeSpan.FromSeconds(5), Reported = false }).ToList();
var phases = new List<Phase>();
while (phases.Count * 5 < 30)
{
    phases.AddRange(warmUpRound);
}

var warmUpPhases = phases.Count;
phases.AddRange(measured);
var warmUpQuests = 0;
var warmUpWatch = Stopwatch.StartNew();
CpuMeter? roundMeter = null;
var compilation = new Dictionary<string, double>();
for (var index = 0; index < phases.Count; index++)
{
    var phase = phases[index];
    if (!phase.Reported && index % warmUpRound.Count == 0)
    {
        roundMeter?.Dispose();
        roundMeter = probe.StartCpuMeter();
    }

    using var cpu = probe.StartCpuMeter();
    var counting = phase.Reported && phase.Label == $"{countedLevel}";
    if (counting)
    {
        await roundTrips.ResetAsync();
    }

    progressLatencies.Clear();
    var sink = new Sink();
    using var stop = new CancellationTokenSource(phase.Duration);
    var sw = Stopwatch.StartNew();
    var load = phase.Rate is { } rate
        ? ArriveAtRateAsync(rate, sink, stop.Token)
        : Task.WhenAll(Enumerable.Range(0, phase.Clients).Select(async c =>
        {
            while (!stop.IsCancellationRequested)
            {
                await RunQuestAsync(c, sink);
            }
        }));
    if (phase.Reported && phase.Clients == 32 && loadRss is null)
    {
        await Task.Delay(phase.Duration / 2);
        loadRss = probe.Sample().ToDictionary(p => p.Key, p => p.Value.RssMb);
    }

    await load;
    var elapsed = sw.Elapsed.TotalSeconds;
    if (!phase.Reported)
    {
        warmUpQuests += sink.Ended;
        if (index == warmUpPhases - 1)
        {
            var (_, share) = roundMeter!.Compilation(1, 1);
            if (share > 0.02 && warmUpWatch.Elapsed < TimeSpan.FromMinutes(4))
            {
                phases.InsertRange(index + 1, warmUpRound);
                warmUpPhases += warmUpRound.Count;
                continue;
            }

            roundMeter.Dispose();
            Console.WriteLine($"warm-up: {warmUpQuests} quests in {warmUpWatch.Elapsed.TotalSeconds:0} s, every phase 5 s in turn (not reported); "
                + $"background compilation {share:P1} of the services' CPU in the last round");
        }

        continue;
    }

    // CPU each process spent per finished quest in this phase (ms): where the platform's time goes.
    cpuPerQuest[phase.Label] = cpu.PerUnit(Math.Max(1, sink.Ended), 1e3);
    compilation[phase.Label] = cpu.Compilation(Math.Max(1, sink.Ended), 1e3).PerUnit;
    if (counting)
    {
        counted = await roundTrips.ReadAsync(sink.Ended);
    }

    var row = new
    {
        level = phase.Label,
        quests = sink.Submitted,
        lost = sink.Submitted - sink.Ended,
        throughput = sink.Ended / elapsed,
        submit = Summary.Of(sink.Submit),
        endToEnd = Summary.Of(sink.EndToEnd),
        overhead = Summary.Of(sink.Overhead),
        progress = Summary.Of(progressLatencies),
        // The overhead in stages: created -> a worker started it; started -> completed, less the renderer's time;
        // completed -> the terminal event reached the client.
        toWorker = Summary.Of(sink.Stages.Select(s => s.ToWorker)),
        inWorker = Summary.Of(sink.Stages.Select(s => s.InWorker)),
        toClient = Summary.Of(sink.Stages.Select(s => s.ToClient)),
    };
    results.Add(row);
    stageRows.Add($"{phase.Label,5} | {row.toWorker} | {row.inWorker} | {row.toClient}");
    Console.WriteLine($"{phase.Label,5} {sink.Submitted,7} {row.lost,5} {row.throughput,9:0.0} | {row.submit} | {row.endToEnd} | {row.overhead} | {row.progress}");
}

// One quest from submit to its terminal event, as client c (a user's tab).
async Task RunQuestAsync(int c, Sink sink)
{
    var user = users[c % users.Count];
    var started = Stopwatch.GetTimestamp();
    using var response = await user.Client.PostAsJsonAsync("/api/quests", new { prompt = $"bench {c}", model = "local-sketch", width = 64, height = 64 });
    var quest = (await response.Content.ReadFromJsonAsync<QuestDto>(json))!;
    sink.Submit.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    Interlocked.Increment(ref sink.Submitted);
    var done = waiting.GetOrAdd(quest.Id, _ => new TaskCompletionSource<Arrival>(TaskCreationOptions.RunContinuationsAsynchronously));
    QuestEvent terminal;
    try
    {
        var arrival = await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        terminal = arrival.Event;
        if (terminal.Quest is { StartedAt: { } began, CompletedAt: { } completed } q)
        {
            // Where the overhead goes, from the quest's own timestamps (one machine, one clock).
            sink.Stages.Add(new Stages((began - q.CreatedAt).TotalMilliseconds,
                (completed - began).TotalMilliseconds - (q.GenerationMilliseconds ?? 0),
                (arrival.At - completed).TotalMilliseconds));
        }

        waiting.TryRemove(quest.Id, out _);
    }
    catch (TimeoutException)
    {
        // Missed event: ask the source of truth.
        waiting.TryRemove(quest.Id, out _);
        var polled = (await user.Client.GetFromJsonAsync<QuestDto>($"/api/quests/{quest.Id}", json))!;
        if (!polled.Status.IsTerminal())
        {
            return;
        }

        terminal = new QuestEvent { QuestId = quest.Id, UserId = Guid.Empty, Sequence = 0, Status = polled.Status, PublishedAt = DateTimeOffset.UtcNow, Quest = polled };
    }

    var e2e = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    sink.EndToEnd.Add(e2e);
    sink.Overhead.Add(e2e - (terminal.Quest?.GenerationMilliseconds ?? 0));
    Interlocked.Increment(ref sink.Ended);
}

// Starts a quest every 1/rate seconds until stopped, late starts catching up at once, then waits for all of them.
async Task ArriveAtRateAsync(double rate, Sink sink, CancellationToken stopToken)
{
    var quests = new List<Task>();
    var clock = Stopwatch.StartNew();
    for (var i = 0; !stopToken.IsCancellationRequested; i++)
    {
        var due = TimeSpan.FromSeconds(i / rate) - clock.Elapsed;
        if (due > TimeSpan.Zero)
        {
            await Task.Delay(due);
        }

        quests.Add(RunQuestAsync(i, sink));
    }

    await Task.WhenAll(quests);
}

// Image delivery: an 800 px WebP variant of a 1024 px original, made on first request and read from the disk cache
// after; then cached reads at 16 concurrent, through the gateway and straight from the api, alternating.
var owner = users[0].Client;
var variantUrls = new List<string>();
for (var i = 0; i < 12; i++)
{
    using var response = await owner.PostAsJsonAsync("/api/quests", new { prompt = $"variant source {i}", model = "local-sketch", width = 1024, height = 1024 });
    var quest = (await response.Content.ReadFromJsonAsync<QuestDto>(json))!;
    var done = waiting.GetOrAdd(quest.Id, _ => new TaskCompletionSource<Arrival>(TaskCreationOptions.RunContinuationsAsynchronously));
    await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
    var signed = (await owner.GetFromJsonAsync<QuestDto>($"/api/quests/{quest.Id}", json))!.Images[0];
    variantUrls.Add(signed.Variants.Single(v => v.Width == 800).Url);
}

using var imageDirect = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = apiDirect };
using var imageProxied = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = gateway };
async Task<(double Ms, long Bytes, string? Cache)> FetchVariantAsync(HttpClient client, string url)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, url);
    request.Headers.Accept.ParseAdd("image/webp,image/*");
    var t = Stopwatch.GetTimestamp();
    using var response = await client.SendAsync(request);
    var body = await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync();
    return (Stopwatch.GetElapsedTime(t).TotalMilliseconds, body.Length, response.Headers.TryGetValues("X-Cache", out var v) ? v.First() : null);
}

var firstHits = new List<double>();
var variantBytes = 0L;
foreach (var url in variantUrls)
{
    var (ms, bytes, cache) = await FetchVariantAsync(imageProxied, url);
    if (cache != "miss")
    {
        throw new InvalidOperationException($"expected a first render, got X-Cache: {cache}");
    }

    firstHits.Add(ms);
    variantBytes = bytes;
}

var cachedProxied = new List<double>();
var cachedDirect = new List<double>();
for (var i = 0; i < 600; i++)
{
    var url = variantUrls[i % variantUrls.Count];
    cachedDirect.Add((await FetchVariantAsync(imageDirect, url)).Ms);
    cachedProxied.Add((await FetchVariantAsync(imageProxied, url)).Ms);
}

Task<double> VariantThroughputAsync(HttpClient client) => ThroughputAsync(async i => await FetchVariantAsync(client, variantUrls[i % variantUrls.Count]));

// Alternating rounds, so drift on a noisy machine falls on both sides.
var variantDirectRates = new List<double>();
var variantProxiedRates = new List<double>();
for (var round = 0; round < 3; round++)
{
    variantDirectRates.Add(await VariantThroughputAsync(imageDirect));
    variantProxiedRates.Add(await VariantThroughputAsync(imageProxied));
}

var variantDirectRate = variantDirectRates.Order().ElementAt(1);
var variantProxiedRate = variantProxiedRates.Order().ElementAt(1);

// The same variants from an object store by its signed links (the path with ImageGen:ImageStore:S3), against the API
// path above: latency alternating one by one, then reads at 16 concurrent in alternating rounds, each with the CPU
// the serving side spent per read (the store's process; the api and the gateway; the benchmark's own client).
await using var objectStore = await PresignedProbe.StartAsync();
var presignedLinks = new List<Uri>();
foreach (var url in variantUrls)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, url);
    request.Headers.Accept.ParseAdd("image/webp");
    using var response = await imageProxied.SendAsync(request);
    presignedLinks.Add(await objectStore.PutVariantAsync(await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync()));
}

using var storeClient = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 });
async Task<double> FetchPresignedAsync(int i)
{
    var t = Stopwatch.GetTimestamp();
    using var response = await storeClient.GetAsync(presignedLinks[i % presignedLinks.Count]);
    await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync();
    return Stopwatch.GetElapsedTime(t).TotalMilliseconds;
}

var presignedTimes = new List<double>();
var apiPathTimes = new List<double>();
for (var i = 0; i < 600; i++)
{
    presignedTimes.Add(await FetchPresignedAsync(i));
    apiPathTimes.Add((await FetchVariantAsync(imageProxied, variantUrls[i % variantUrls.Count])).Ms);
}

var presignedRates = new List<(double Rate, double ServerUs, double ClientUs)>();
var apiPathRates = new List<(double Rate, double ServerUs, double ClientUs)>();
for (var round = 0; round < 3; round++)
{
    var storeCpu = objectStore.CpuSeconds();
    var sw = Stopwatch.StartNew();
    double rate;
    using (var meter = probe.StartCpuMeter())
    {
        rate = await ThroughputAsync(async i => await FetchPresignedAsync(i));
        var reads = rate * sw.Elapsed.TotalSeconds;
        presignedRates.Add((rate, (objectStore.CpuSeconds() - storeCpu) * 1e6 / reads, meter.PerUnit(reads, 1e6)[CpuMeter.Client]));
    }

    using var apiMeter = probe.StartCpuMeter();
    sw.Restart();
    rate = await VariantThroughputAsync(imageProxied);
    var perRead = apiMeter.PerUnit(rate * sw.Elapsed.TotalSeconds, 1e6);
    apiPathRates.Add((rate, perRead.Where(p => p.Key.StartsWith("ImageGen.Api", StringComparison.Ordinal) || p.Key == "ImageGen.Gateway").Sum(p => p.Value), perRead[CpuMeter.Client]));
}

var presigned = presignedRates.OrderBy(r => r.Rate).ElementAt(1);
var apiPath = apiPathRates.OrderBy(r => r.Rate).ElementAt(1);

// Physical references, measured in the same run.
var rdb = redis.GetDatabase();
try { await rdb.StreamCreateConsumerGroupAsync("bench:stream", "g", "0", createStream: true); } catch (RedisServerException) { }
var redisOps = 0;
var redisWatch = Stopwatch.StartNew();
while (redisWatch.Elapsed < TimeSpan.FromSeconds(3))
{
    await rdb.StreamAddAsync("bench:stream", "f", "v");
    var read = await rdb.StreamReadGroupAsync("bench:stream", "g", "c", ">", 1);
    await rdb.StreamAcknowledgeAsync("bench:stream", "g", read[0].Id);
    redisOps++;
}

var redisRate = redisOps / redisWatch.Elapsed.TotalSeconds;
await using (var setup = pg.CreateCommand("CREATE TABLE IF NOT EXISTS bench_rows (id uuid primary key, n int)"))
{
    await setup.ExecuteNonQueryAsync();
}

var pgOps = 0;
var pgWatch = Stopwatch.StartNew();
await using (var connection = await pg.OpenConnectionAsync())
{
    while (pgWatch.Elapsed < TimeSpan.FromSeconds(3))
    {
        var id = Guid.NewGuid();
        await using (var insert = new NpgsqlCommand("INSERT INTO bench_rows VALUES ($1, 0)", connection) { Parameters = { new() { Value = id } } })
        {
            await insert.ExecuteNonQueryAsync();
        }

        await using (var update = new NpgsqlCommand("UPDATE bench_rows SET n = 1 WHERE id = $1", connection) { Parameters = { new() { Value = id } } })
        {
            await update.ExecuteNonQueryAsync();
        }

        pgOps++;
    }
}

var pgRate = pgOps / pgWatch.Elapsed.TotalSeconds;

// The gateway's cost: the same request straight to the api and through the gateway, alternating.
using var direct = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = apiDirect };
using var proxied = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = gateway };
var directTimes = new List<double>();
var proxiedTimes = new List<double>();
for (var i = 0; i < 2000; i++)
{
    foreach (var (client, times) in new[] { (direct, directTimes), (proxied, proxiedTimes) })
    {
        var t = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync("/api/models");
        await response.Content.ReadAsByteArrayAsync();
        times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    }
}

Task<double> ModelsThroughputAsync(HttpClient client) => ThroughputAsync(async _ =>
{
    using var response = await client.GetAsync("/api/models");
    await response.Content.ReadAsByteArrayAsync();
});

// With the CPU each process spent per request: on a machine where the load, the gateway and the api share the
// cores, the ratio is what the gateway's CPU per request allows.
async Task<(double Rate, Dictionary<string, double> CpuUs)> ModelsThroughputWithCpuAsync(HttpClient client)
{
    using var cpu = probe.StartCpuMeter();
    var sw = Stopwatch.StartNew();
    var rate = await ModelsThroughputAsync(client);
    var perRequest = cpu.PerUnit(rate * sw.Elapsed.TotalSeconds, 1e6);
    return (rate, perRequest.Where(p => p.Key is "ImageGen.Api" or "ImageGen.Gateway" or CpuMeter.Client).ToDictionary());
}

// The OpenAI-compatible surface against the native API, the same quest both ways, synchronously (native with
// "Prefer: wait"), one client, alternating so drift falls on both sides.
var nativeWait = new List<double>();
var openAiWait = new List<double>();
var caller = users[0].Client;
for (var i = 0; i < 100; i++)
{
    var t = Stopwatch.GetTimestamp();
    using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/quests")
    {
        Content = JsonContent.Create(new { prompt = $"side by side {i} native", model = "local-sketch", width = 64, height = 64 }),
    })
    {
        request.Headers.Add("Prefer", "wait=60");
        using var answer = await caller.SendAsync(request);
        await answer.Content.ReadAsByteArrayAsync();
        if ((int)answer.StatusCode != 200)
        {
            throw new InvalidOperationException($"native wait answered {(int)answer.StatusCode}");
        }
    }

    nativeWait.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    t = Stopwatch.GetTimestamp();
    using (var answer = await caller.PostAsJsonAsync("/v1/images/generations", new { prompt = $"side by side {i} v1", model = "local-sketch", size = "64x64" }))
    {
        await answer.Content.ReadAsByteArrayAsync();
        answer.EnsureSuccessStatusCode();
    }

    openAiWait.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
}

var (directRate, directCpu) = await ModelsThroughputWithCpuAsync(direct);
var (proxiedRate, proxiedCpu) = await ModelsThroughputWithCpuAsync(proxied);
var directP50 = Summary.Of(directTimes).P50;
var proxiedP50 = Summary.Of(proxiedTimes).P50;

Console.WriteLine();
Console.WriteLine("level | created->worker start p50/p95/p99/max | in worker less render            | completed->client");
stageRows.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine($"raw redis XADD+XREADGROUP+XACK, one client: {redisRate:0} /s");
Console.WriteLine($"raw postgres insert+update, one connection: {pgRate:0} /s");
Console.WriteLine($"GET /api/models p50: direct {directP50:0.00} ms, via gateway {proxiedP50:0.00} ms (+{proxiedP50 - directP50:0.00} ms)");
Console.WriteLine($"one 64 px local quest, synchronous, 1 client: native (Prefer: wait) {Summary.Of(nativeWait)}; /v1/images/generations {Summary.Of(openAiWait)} (p50/p95/p99/max ms; /v1 p50 {Summary.Of(openAiWait).P50 - Summary.Of(nativeWait).P50:+0.0;-0.0} ms)");
Console.WriteLine($"GET /api/models at 16 concurrent: direct {directRate:0} /s, via gateway {proxiedRate:0} /s ({proxiedRate / directRate:P0} of direct)");
static string CpuLine(Dictionary<string, double> cpu) => string.Join(", ", cpu.Select(p => $"{p.Key} {p.Value:0}")) + $"; total {cpu.Values.Sum():0}";
Console.WriteLine($"  CPU per request (us): direct: {CpuLine(directCpu)}; via gateway: {CpuLine(proxiedCpu)}");
Console.WriteLine($"800 px webp variant of a 1024 px original ({variantBytes / 1024.0:0} KB): first hit {Summary.Of(firstHits)}; cached via gateway {Summary.Of(cachedProxied)}; cached direct {Summary.Of(cachedDirect)} (p50/p95/p99/max ms)");
Console.WriteLine($"cached variant reads at 16 concurrent (median of 3 rounds): direct {variantDirectRate:0} /s, via gateway {variantProxiedRate:0} /s ({variantProxiedRate / variantDirectRate:P0} of direct)");
Console.WriteLine($"cached 800 px variant, object store by signed link vs API path (gateway + api): 1 client {Summary.Of(presignedTimes)} vs {Summary.Of(apiPathTimes)} (p50/p95/p99/max ms); "
    + $"16 concurrent (median of 3 rounds) {presigned.Rate:0} /s vs {apiPath.Rate:0} /s; serving CPU per read {presigned.ServerUs:0} us (store) vs {apiPath.ServerUs:0} us (api + gateway), "
    + $"API CPU per read 0 vs {apiPath.ServerUs:0} us; client {presigned.ClientUs:0} vs {apiPath.ClientUs:0} us");
Console.WriteLine("CPU per finished quest (ms), by process and level (2 cores = 2000 ms of CPU per second)");
Console.WriteLine($"  {"",-28}" + string.Concat(cpuPerQuest.Keys.Select(l => $"{l,8}")));
foreach (var name in cpuPerQuest.Values.SelectMany(v => v.Keys).Distinct().Order())
{
    Console.WriteLine($"  {name,-28}" + string.Concat(cpuPerQuest.Values.Select(l => $"{l.GetValueOrDefault(name),8:0.00}")));
}

Console.WriteLine($"  {"total",-28}" + string.Concat(cpuPerQuest.Values.Select(l => $"{l.Values.Sum(),8:0.00}")));
Console.WriteLine($"  {"of which services' compiler",-28}" + string.Concat(compilation.Values.Select(c => $"{c,8:0.00}")));
if (counted is var (statements, commands))
{
    Console.WriteLine($"Postgres statements per finished quest at {countedLevel} clients: {statements.Sum(s => s.PerQuest):0.0} (calls per quest, mean ms, statement)");
    foreach (var statement in statements.Take(25))
    {
        Console.WriteLine($"  {statement.PerQuest,6:0.00} {statement.MeanMs,7:0.000}  {(statement.What.Length > 110 ? statement.What[..110] + "..." : statement.What)}");
    }

    Console.WriteLine($"Redis commands per finished quest at {countedLevel} clients: {commands.Sum(c => c.PerQuest):0.0} (calls per quest, mean ms, command)");
    foreach (var command in commands.Where(c => c.PerQuest >= 0.01))
    {
        Console.WriteLine($"  {command.PerQuest,6:0.00} {command.MeanMs,7:0.000}  {command.What}");
    }
}

// An idle graph: no traffic for 30 s once the load has settled (10 s), CPU per second of each process. What wakes a
// service when nothing happens (polls, timers, probes) is a laptop's fan and a cloud bill. The benchmark's graph
// exports no telemetry; F5 adds the dashboard's metric export (every 10 s, ImageGen:MetricExportInterval).
await Task.Delay(TimeSpan.FromSeconds(10));
using var idleMeter = probe.StartCpuMeter();
var idleWatch = Stopwatch.StartNew();
await Task.Delay(TimeSpan.FromSeconds(30));
var idleCpu = idleMeter.PerUnit(idleWatch.Elapsed.TotalSeconds, 1e3);
idleCpu.Remove(CpuMeter.Client);
Console.WriteLine($"idle CPU (ms per second, 30 s without traffic): {string.Join(", ", idleCpu.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value:0.0}"))}; total {idleCpu.Values.Sum():0.0}");

Console.WriteLine($"Memory (MB): RSS; Postgres: PSS over all its processes");
Console.WriteLine($"  {"",-28}{"idle",8}{"32 clients",12}");
foreach (var (name, mb) in idleRss.OrderBy(k => k.Key))
{
    Console.WriteLine($"  {name,-28}{mb,8:0}{(loadRss?.GetValueOrDefault(name) is { } l and > 0 ? l.ToString("0", System.Globalization.CultureInfo.InvariantCulture) : "-"),12}");
}

var report = new
{
    cores = Environment.ProcessorCount,
    levelSeconds = levelDuration.TotalSeconds,
    levels = results,
    redisStreamRoundTripsPerSecond = redisRate,
    postgresInsertUpdatePerSecond = pgRate,
    gateway = new { directP50, proxiedP50, addedP50 = proxiedP50 - directP50, directRate, proxiedRate, ratio = proxiedRate / directRate, directCpuUsPerRequest = directCpu, proxiedCpuUsPerRequest = proxiedCpu },
    imageVariants = new
    {
        variantBytes,
        firstHit = Summary.Of(firstHits),
        cachedViaGateway = Summary.Of(cachedProxied),
        cachedDirect = Summary.Of(cachedDirect),
        directRate = variantDirectRate,
        proxiedRate = variantProxiedRate,
        ratio = variantProxiedRate / variantDirectRate,
        presigned = new { latency = Summary.Of(presignedTimes), rate = presigned.Rate, storeCpuUsPerRead = presigned.ServerUs, clientCpuUsPerRead = presigned.ClientUs },
        apiPath = new { latency = Summary.Of(apiPathTimes), rate = apiPath.Rate, apiAndGatewayCpuUsPerRead = apiPath.ServerUs, clientCpuUsPerRead = apiPath.ClientUs },
    },
    rssIdleMb = idleRss,
    rssLoadMb = loadRss,
    idleCpuMsPerSecond = idleCpu,
    cpuMsPerQuest = cpuPerQuest,
    compilerCpuMsPerQuest = compilation,
    postgresStatementsPerQuest = counted?.Postgres,
    redisCommandsPerQuest = counted?.Redis,
};
await File.WriteAllTextAsync("bench-results.json", JsonSerializer.Serialize(report, new JsonSerializerOptions(json) { WriteIndented = true }));
Console.WriteLine("written: bench-results.json");
foreach (var user in users)
{
    await user.Hub.DisposeAsync();
}

await app.StopAsync();

// Requests per second from 16 concurrent callers over 3 s; each call gets a running number.
async Task<double> ThroughputAsync(Func<int, Task> request)
{
    var count = 0;
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
    var sw = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, 16).Select(async c =>
    {
        while (!stop.IsCancellationRequested)
        {
            await request(c + Volatile.Read(ref count));
            Interlocked.Increment(ref count);
        }
    }));
    return count / sw.Elapsed.TotalSeconds;
}

async Task<HttpClient> LoginAsync(string email, string password)
{
    using var login = await http.PostAsJsonAsync("/api/auth/login", new { email, password });
    login.EnsureSuccessStatusCode();
    var tokens = (await login.Content.ReadFromJsonAsync<TokenResponse>(json))!;
    var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
    return client;
}
