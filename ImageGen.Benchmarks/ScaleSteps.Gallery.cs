using System.Diagnostics;
using Npgsql;

namespace ImageGen.Benchmarks;

/// <summary>The gallery and its search with 100,000 images in one account.</summary>
internal sealed partial class ScaleSteps
{
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
}
