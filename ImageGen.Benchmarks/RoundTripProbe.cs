using System.Globalization;
using Npgsql;
using StackExchange.Redis;

namespace ImageGen.Benchmarks;

/// <summary>One statement or command, counted over a level: how often per finished quest, and what it cost.</summary>
internal sealed record RoundTrips(string What, double PerQuest, double MeanMs);

/// <summary>
/// Counts what the graph sent to Postgres (pg_stat_statements, which the local Postgres preloads) and to Redis
/// (INFO commandstats) while one level ran, per finished quest.
/// </summary>
internal sealed class RoundTripProbe(NpgsqlDataSource postgres, IServer redis)
{
    private bool _statements = true;

    public async Task ResetAsync()
    {
        try
        {
            await using var reset = postgres.CreateCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();");
            await reset.ExecuteNonQueryAsync();
        }
        catch (PostgresException)
        {
            // Not preloaded (a Postgres container): the table stays empty.
            _statements = false;
        }

        await redis.ConfigResetStatisticsAsync();
    }

    public async Task<(List<RoundTrips> Postgres, List<RoundTrips> Redis)> ReadAsync(int quests)
    {
        var perQuest = Math.Max(1, quests);
        var statements = new List<RoundTrips>();
        if (_statements)
        {
            await using var read = postgres.CreateCommand(
                "SELECT calls, total_exec_time, query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls > 0 ORDER BY calls DESC");
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var calls = reader.GetInt64(0);
                var query = string.Join(' ', reader.GetString(2).Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
                statements.Add(new RoundTrips(query, (double)calls / perQuest, reader.GetDouble(1) / calls));
            }
        }

        var commands = new List<RoundTrips>();
        foreach (var (key, value) in (await redis.InfoAsync("commandstats")).SelectMany(g => g))
        {
            // cmdstat_xadd: calls=12,usec=345,usec_per_call=28.75,...
            var fields = value.Split(',').Select(f => f.Split('=')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            if (key.StartsWith("cmdstat_", StringComparison.Ordinal) && fields.TryGetValue("calls", out var calls) && fields.TryGetValue("usec_per_call", out var usec))
            {
                commands.Add(new RoundTrips(key["cmdstat_".Length..], double.Parse(calls, CultureInfo.InvariantCulture) / perQuest,
                    double.Parse(usec, CultureInfo.InvariantCulture) / 1000));
            }
        }

        return (statements, [.. commands.OrderByDescending(c => c.PerQuest)]);
    }
}
