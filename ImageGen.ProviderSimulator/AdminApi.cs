namespace ImageGen.ProviderSimulator;

/// <summary>Switches fault profiles and reads request counts (from tests, and from the Aspire dashboard's commands).</summary>
internal static class AdminApi
{
    public static void MapSimulatorAdmin(this WebApplication app)
    {
        var admin = app.MapGroup("/admin");
        admin.MapGet("/faults", (FaultProfiles faults) => faults.All);
        admin.MapPut("/faults/{provider}", (string provider, FaultSettings settings, FaultProfiles faults) =>
        {
            if (!FaultProfiles.IsProvider(provider))
            {
                return Results.Problem(detail: $"Unknown provider '{provider}': use 'openai', 'bfl' or 'midjourney'.", statusCode: 404);
            }

            faults.Set(provider, settings);
            return Results.Ok(settings);
        });
        admin.MapGet("/stats", (SimulatorStats stats) => stats.Snapshot());
        admin.MapPost("/stats/reset", (SimulatorStats stats) =>
        {
            stats.Reset();
            return Results.NoContent();
        });
    }
}
