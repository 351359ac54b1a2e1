using Microsoft.Extensions.Hosting;

namespace ImageGen.Data;

public static class DatabaseRegistration
{
    /// <summary>
    /// Registers the pooled <see cref="ImageGenDbContext"/> on the <c>imagegen-db</c> connection, with Aspire's
    /// health check and telemetry, and the short retries of <see cref="ImageGenDbContext.Configure"/> in place of Aspire's
    /// (which keep a caller waiting half a minute when Postgres is down). Every service that touches the database calls
    /// this, and only this.
    /// </summary>
    public static void AddImageGenDatabase(this IHostApplicationBuilder builder) =>
        builder.AddNpgsqlDbContext<ImageGenDbContext>(ImageGenDbContext.ConnectionName,
            configureSettings: settings => settings.DisableRetry = true,
            configureDbContextOptions: ImageGenDbContext.Configure);
}
