using System.Diagnostics;
using System.Net.Http.Json;
using ImageGen.Core.Quests;
using Npgsql;

namespace ImageGen.Benchmarks;

/// <summary>The queue at scale: how good the start estimate is, and what a waiting quest's place costs to count.</summary>
internal sealed partial class ScaleSteps
{
    /// <summary>
    /// Quests arrive at 6 a second from 8 users for 30 s, above what 8 slots of 1.6 s renders finish (about 4.5 a second),
    /// so the queue grows. Each quest's estimate is read right after its submit; for those that waited over 2 s, the
    /// spread of when they started against when the estimate said.
    /// </summary>
    private async Task EstimateSpreadAsync()
    {
        // The estimate divides by the recent endings: a warm-up below capacity gives it some, as a quieter time would.
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
            // Warm first (not counted), so a run of this step alone measures optimized code, as after the others.
            for (var i = 0; i < 300; i++)
            {
                await TimedReadAsync(direct, $"/api/quests/{waiting}", []);
                await TimedReadAsync(direct, $"/api/quests/{template}", []);
            }

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
}
