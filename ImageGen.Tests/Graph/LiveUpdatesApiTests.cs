using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>The live-updates switch: operators only, a bounded pause, a clear refusal of a request that cannot hold.</summary>
public sealed class LiveUpdatesApiTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Only_an_operator_pauses_live_updates_and_only_for_1_to_60_minutes()
    {
        using var user = await graph.CreateUserAsync(Token);
        using (var notAdmin = await user.Client.PutAsJsonAsync("/api/admin/live-updates", new { paused = true, minutes = 1 }, Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);
        }

        foreach (var (body, code, field) in new (object, string, string)[]
        {
            (new { paused = true, minutes = 0 }, ErrorCodes.ValueOutOfRange, "minutes"),
            (new { paused = true, minutes = 61 }, ErrorCodes.ValueOutOfRange, "minutes"),
            (new { minutes = 5 }, ErrorCodes.Required, "paused"),
        })
        {
            using var refused = await graph.Admin.Client.PutAsJsonAsync("/api/admin/live-updates", body, Token);
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest, code, field);
        }

        using (var malformed = await graph.Admin.Client.PutAsync("/api/admin/live-updates", new StringContent("{\"paused\": tru", System.Text.Encoding.UTF8, "application/json"), Token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        // None of these paused anything.
        var state = await graph.Admin.Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/admin/live-updates", Token);
        Assert.False(state.GetProperty("paused").GetBoolean());
    }
}
