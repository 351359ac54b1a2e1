using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ImageGen.AppHost;

/// <summary>
/// Dashboard buttons on the api resource for everyday operations, done through the API as the configured admin:
/// grant credits to the admin's own account (for trying things out), and re-drive every dead-lettered quest.
/// </summary>
internal static class OperatorCommands
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IResourceBuilder<ProjectResource> WithOperatorCommands(this IResourceBuilder<ProjectResource> api,
        IResourceBuilder<ParameterResource> adminEmail, IResourceBuilder<ParameterResource> adminPassword)
    {
        api.WithCommand("grant-dev-credits", "Grant 1000 credits to the admin account", async context =>
        {
            using var http = await SignInAsync(api, adminEmail, adminPassword, context.CancellationToken);
            var me = await http.GetFromJsonAsync<JsonElement>("/api/me", Json, context.CancellationToken);
            using var grant = await http.PostAsJsonAsync($"/api/admin/users/{me.GetProperty("id").GetGuid()}/credits",
                new { kind = "Grant", amount = 1000, reason = "Dashboard: development credits" }, Json, context.CancellationToken);
            return grant.IsSuccessStatusCode ? CommandResults.Success() : CommandResults.Failure($"The API answered {(int)grant.StatusCode}.");
        }, new CommandOptions { Description = "Adds 1000 credits to the admin's own balance, with a ledger entry.", IconName = "Money" });

        api.WithCommand("redrive-dead-letters", "Re-drive all dead-lettered quests", async context =>
        {
            using var http = await SignInAsync(api, adminEmail, adminPassword, context.CancellationToken);
            var entries = await http.GetFromJsonAsync<List<JsonElement>>("/api/admin/dead-letters", Json, context.CancellationToken) ?? [];
            var failed = 0;
            foreach (var entry in entries)
            {
                using var redrive = await http.PostAsync($"/api/admin/dead-letters/{entry.GetProperty("entryId").GetString()}/redrive", null, context.CancellationToken)
                    ;
                failed += redrive.IsSuccessStatusCode ? 0 : 1;
            }

            return failed == 0 ? CommandResults.Success() : CommandResults.Failure($"{failed} of {entries.Count} entries could not be re-driven.");
        }, new CommandOptions { Description = "Submits every quest in the dead-letter stream again (a new reservation each) and drops the entries.", IconName = "ArrowRepeatAll" });

        return api;
    }

    private static async Task<HttpClient> SignInAsync(IResourceBuilder<ProjectResource> api, IResourceBuilder<ParameterResource> adminEmail,
        IResourceBuilder<ParameterResource> adminPassword, CancellationToken cancellationToken)
    {
        var http = new HttpClient { BaseAddress = new Uri(api.GetEndpoint("http").Url), Timeout = TimeSpan.FromSeconds(30) };
        var email = await adminEmail.Resource.GetValueAsync(cancellationToken);
        var password = await adminPassword.Resource.GetValueAsync(cancellationToken);
        using var login = await http.PostAsJsonAsync("/api/auth/login", new { email, password }, Json, cancellationToken);
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken)).GetProperty("accessToken").GetString();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
