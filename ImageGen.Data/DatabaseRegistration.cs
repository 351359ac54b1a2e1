using Microsoft.Extensions.Hosting;

namespace ImageGen.Data;

public static class DatabaseRegistration
{
    /// <summary>
    /// Registers the pooled <see cref="ImageGenDbContext"/> on the <c>imagegen-db</c> connection, with Aspire's
    /// health check, retries and telemetry. Every service that touches the database calls this, and only this.
    /// </summary>
    public static void AddImageGenDatabase(this IHostApplicationBuilder builder) =>
        builder.AddNpgsqlDbContext<ImageGenDbContext>(ImageGenDbContext.ConnectionName, configureDbContextOptions: ImageGenDbContext.Configure);
}
