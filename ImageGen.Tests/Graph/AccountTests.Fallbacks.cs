using System.Net;
using System.Net.Http.Json;
using System.Text;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>The account's default fallback models: each bad list refused by name, and what was set kept.</summary>
public sealed partial class AccountTests
{
    [Fact]
    public async Task Default_fallbacks_refuse_unknown_repeated_too_many_and_malformed_lists_and_keep_what_was_set()
    {
        using var user = await graph.CreateUserAsync(Token);
        using (var set = await user.Client.PutAsJsonAsync("/api/account/fallbacks", new { models = new[] { "flux-2-klein-4b" } }, Token))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var refusals = new (object Body, string Code)[]
        {
            (new { models = new[] { "no-such-model" } }, ErrorCodes.UnknownModel),
            (new { models = new[] { "flux-2-klein-4b'; DROP TABLE users; --" } }, ErrorCodes.UnknownModel),
            (new { models = new string?[] { null } }, ErrorCodes.UnknownModel),
            (new { models = new[] { "flux-2-klein-4b", "flux-2-klein-4b" } }, ErrorCodes.InvalidValue),
            (new { models = new[] { "flux-2-klein-4b", "flux-2-pro", "flux-2-flex", "gpt-image-1.5" } }, ErrorCodes.ValueOutOfRange),
            (new { models = Enumerable.Repeat("flux-2-pro", 10_000).ToArray() }, ErrorCodes.ValueOutOfRange),
            (new { }, ErrorCodes.Required),
        };
        foreach (var (body, code) in refusals)
        {
            using var refused = await user.Client.PutAsJsonAsync("/api/account/fallbacks", body, Token);
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest, code, "models");
        }

        foreach (var malformed in new[] { "{\"models\": ", "{\"models\": \"flux-2-pro\"}", "[\"flux-2-pro\"]" })
        {
            using var content = new StringContent(malformed, Encoding.UTF8, "application/json");
            using var refused = await user.Client.PutAsync("/api/account/fallbacks", content, Token);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        // Another user's setting is their own; this one's is as it was set.
        using var other = await graph.CreateUserAsync(Token);
        Assert.Empty((await other.Client.GetFromJsonAsync<FallbackSettingsDto>("/api/account/fallbacks", GraphFixture.Json, Token))!.Models!);
        Assert.Equal(["flux-2-klein-4b"], (await user.Client.GetFromJsonAsync<FallbackSettingsDto>("/api/account/fallbacks", GraphFixture.Json, Token))!.Models!);
    }
}
