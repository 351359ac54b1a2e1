using System.Data.Common;
using ImageGen.Data.Quests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ImageGen.Data;

public static class DatabaseRegistration
{
    /// <summary>
    /// Registers the pooled <see cref="ImageGenDbContext"/> on the <c>imagegen-db</c> connection, with Aspire's
    /// health check and telemetry, and the short retries of <see cref="ImageGenDbContext.Configure"/> in place of Aspire's
    /// (which keep a caller waiting half a minute when Postgres is down). Every service that touches the database calls
    /// this, and only this. <see cref="QuestTransitions"/>, the one writer of quest state, comes with it.
    /// </summary>
    public static void AddImageGenDatabase(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<ImageGenDbContext>(ImageGenDbContext.ConnectionName,
            configureSettings: settings =>
            {
                settings.DisableRetry = true;
                settings.ConnectionString = WithPreparedStatements(settings.ConnectionString);
            },
            configureDbContextOptions: ImageGenDbContext.Configure);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddScoped<QuestTransitions>();
    }

    /// <summary>
    /// Holds the service's start until the schema is current (<see cref="SchemaGate"/>); call right after
    /// <see cref="AddImageGenDatabase"/>, before any background work is registered. Not for the migrations service.
    /// </summary>
    public static void AddSchemaGate(this IHostApplicationBuilder builder) => builder.Services.AddHostedService<SchemaGate>();

    /// <summary>
    /// Statements a connection runs again and again (a quest's claim, inserts and settlement) are prepared on it once
    /// and then only bound and executed, so Postgres does not parse and plan them for every quest. The pool's reset of a
    /// returned connection (DISCARD ALL) would throw them away, and nothing here leaves session state behind (the
    /// account lock is a transaction lock), so connections go back to the pool as they are. A connection string that
    /// says otherwise wins.
    /// </summary>
    internal static string? WithPreparedStatements(string? connectionString)
    {
        if (connectionString is null)
        {
            return null;
        }

        // Which keys the string itself sets (the Npgsql builder's ContainsKey answers for every key it knows).
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(key => key.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
        }

        if (!given.Contains("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }
}
