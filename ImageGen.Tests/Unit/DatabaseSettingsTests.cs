using ImageGen.Data;
using Npgsql;

namespace ImageGen.Tests.Unit;

public sealed class DatabaseSettingsTests
{
    [Fact]
    public void Services_prepare_repeated_statements_and_keep_pooled_connections_as_they_are()
    {
        var settings = new NpgsqlConnectionStringBuilder(DatabaseRegistration.WithPreparedStatements("Host=db.internal;Port=6432;Database=imagegen-db;Username=app"));

        Assert.Equal(64, settings.MaxAutoPrepare);
        Assert.True(settings.NoResetOnClose);
        Assert.Equal(("db.internal", 6432, "imagegen-db", "app"), (settings.Host, settings.Port, settings.Database, settings.Username));
    }

    [Theory]
    [InlineData("Host=pgbouncer;Database=imagegen-db;Max Auto Prepare=0;No Reset On Close=false")]
    [InlineData("Host=pgbouncer;Database=imagegen-db;maxautoprepare=0;noresetonclose=false")]
    public void A_connection_string_that_sets_them_wins(string connectionString)
    {
        // A transaction-mode pooler in front of Postgres cannot keep prepared statements across transactions.
        var settings = new NpgsqlConnectionStringBuilder(DatabaseRegistration.WithPreparedStatements(connectionString));

        Assert.Equal(0, settings.MaxAutoPrepare);
        Assert.False(settings.NoResetOnClose);
    }
}
