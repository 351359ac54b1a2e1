using System.Collections.Concurrent;
using ImageGen.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ImageGen.Tests.Database;

/// <summary>
/// The API and the workers do not start on a database whose schema is behind their build: they wait, saying what for,
/// and start once the migrations are in (as after a release's migrations Job in Kubernetes).
/// </summary>
[Collection(DatabaseCollection.Name)]
public sealed class SchemaGateTests(ThrowawayPostgres postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_service_waits_for_the_migrations_saying_so_and_starts_once_they_are_in()
    {
        // A database of its own (an identifier cannot be a parameter; this one is a GUID's hex digits).
        var name = "gate_" + Guid.NewGuid().ToString("N");
        await AdminAsync("CREATE DATABASE " + name);

        var connection = new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Database = name }.ConnectionString;
        await using var services = new ServiceCollection()
            .AddScoped(_ => Context(connection))
            .BuildServiceProvider();
        var logger = new Lines();
        var gate = new SchemaGate(services.GetRequiredService<IServiceScopeFactory>(), logger);

        var starting = gate.StartAsync(Token);
        await Task.Delay(TimeSpan.FromSeconds(1.5), Token);
        Assert.False(starting.IsCompleted, "the service started on an empty database");
        Assert.Contains(logger.Seen, l => l.StartsWith("Waiting for the database schema:", StringComparison.Ordinal) && l.Contains("migrations Job", StringComparison.Ordinal));

        await using (var db = Context(connection))
        {
            await db.Database.MigrateAsync(Token);
        }

        await starting.WaitAsync(TimeSpan.FromSeconds(20), Token);
        NpgsqlConnection.ClearAllPools();
        await AdminAsync("DROP DATABASE " + name + " WITH (FORCE)");
    }

    /// <summary>A statement on the server itself (databases are made and dropped outside any transaction).</summary>
    private async Task AdminAsync(string statement)
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync(Token);
        await using var command = connection.CreateCommand();
        command.CommandText = statement;
        await command.ExecuteNonQueryAsync(Token);
    }

    private static ImageGenDbContext Context(string connection)
    {
        var options = new DbContextOptionsBuilder<ImageGenDbContext>().UseNpgsql(connection);
        ImageGenDbContext.Configure(options);
        return new ImageGenDbContext(options.Options);
    }

    /// <summary>The lines a service logged.</summary>
    private sealed class Lines : ILogger<SchemaGate>
    {
        public ConcurrentQueue<string> Seen { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Seen.Enqueue(formatter(state, exception));
    }
}
