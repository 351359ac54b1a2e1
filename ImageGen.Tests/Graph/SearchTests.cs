using System.Net;
using System.Net.Http.Json;
using ImageGen.Core.Quests;
using ImageGen.Api.Apis;
using ImageGen.Core.Storage;

namespace ImageGen.Tests.Graph;

/// <summary>Finding a quest or an image again: words of the prompt, model, status, dates and favourites, paged as before.</summary>
public sealed class SearchTests(GraphFixture graph)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Quests_and_images_are_found_by_prompt_words_model_status_and_dates_and_paged_by_cursor()
    {
        using var user = await graph.CreateUserAsync(Token);
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        foreach (var prompt in new[] { "a red kite over green hills", "a blue boat at sea", "a red boat at dawn" })
        {
            await graph.CreateAndWaitAsync(user, new { prompt, model = "local-sketch", width = 64, height = 64 }, Token);
        }

        Assert.Equal(["a red boat at dawn", "a red kite over green hills"], await PromptsAsync(user, "/api/quests?q=red"));
        Assert.Equal(["a red boat at dawn"], await PromptsAsync(user, "/api/quests?q=red%20boat"));
        Assert.Equal(["a blue boat at sea"], await PromptsAsync(user, "/api/quests?q=BLUE"));
        Assert.Equal(3, (await PromptsAsync(user, $"/api/quests?model=local-sketch&status=succeeded&from={Uri.EscapeDataString(started.ToString("O"))}")).Count);
        Assert.Empty(await PromptsAsync(user, "/api/quests?model=flux-dev"));
        Assert.Empty(await PromptsAsync(user, "/api/quests?status=Failed"));
        Assert.Empty(await PromptsAsync(user, $"/api/quests?to={Uri.EscapeDataString(started.ToString("O"))}"));

        // Keyset paging goes on within the search.
        var first = await user.Client.GetFromJsonAsync<QuestPage>("/api/quests?q=red&limit=1", GraphFixture.Json, Token);
        Assert.Equal("a red boat at dawn", Assert.Single(first!.Items).Prompt);
        var second = await user.Client.GetFromJsonAsync<QuestPage>($"/api/quests?q=red&limit=1&cursor={first.NextCursor}", GraphFixture.Json, Token);
        Assert.Equal("a red kite over green hills", Assert.Single(second!.Items).Prompt);

        // The gallery takes the same filters.
        var kites = await user.Client.GetFromJsonAsync<ImagePage>("/api/images?q=kite", GraphFixture.Json, Token);
        Assert.Equal("a red kite over green hills", Assert.Single(kites!.Items).Prompt);

        // Another user's words find nothing of this one's.
        using var other = await graph.CreateUserAsync(Token);
        Assert.Empty(await PromptsAsync(other, "/api/quests?q=kite"));
    }

    [Theory]
    [InlineData("/api/quests?status=Bogus", ErrorCodes.InvalidValue, "status")]
    [InlineData("/api/quests?status=1", ErrorCodes.InvalidValue, "status")]
    [InlineData("/api/images?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", ErrorCodes.InvalidValue, "from")]
    [InlineData("/api/quests?q=%01kite", ErrorCodes.ControlCharacters, "q")]
    public async Task A_filter_that_cannot_hold_is_refused_by_name(string path, string code, string field)
    {
        using var user = await graph.CreateUserAsync(Token);
        using var response = await user.Client.GetAsync(path, Token);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code, field);
    }

    [Fact]
    public async Task Search_text_with_sql_regex_or_tsquery_syntax_is_only_words_and_a_10000_character_one_is_refused()
    {
        using var user = await graph.CreateUserAsync(Token);
        await graph.CreateAndWaitAsync(user, new { prompt = "a plain harbour", model = "local-sketch", width = 64, height = 64 }, Token);
        foreach (var q in new[] { "'; DROP TABLE quests; --", "harbour' OR '1'='1", ".*(a+)+$ [^x] \\d{1,99}", "harbour & !plain | x:* <-> y", "%_%" })
        {
            foreach (var path in new[] { "/api/quests", "/api/images" })
            {
                using var response = await user.Client.GetAsync($"{path}?q={Uri.EscapeDataString(q)}", Token);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} q={q}: {(int)response.StatusCode}");
            }
        }

        // Operators are words here: "harbour & !plain" finds the quest by its words, not by negating one.
        Assert.Equal(["a plain harbour"], await PromptsAsync(user, $"/api/quests?q={Uri.EscapeDataString("harbour & !plain")}"));
        Assert.Empty(await PromptsAsync(user, $"/api/quests?q={Uri.EscapeDataString("harbour' OR '1'='1")}"));
        // A long search is refused by name; one of 10,000 characters does not even make a request line the server reads.
        using var tooLong = await user.Client.GetAsync($"/api/quests?q={new string('x', 1_000)}", Token);
        await ProblemAssert.IsProblemAsync(tooLong, HttpStatusCode.BadRequest, ErrorCodes.ValueOutOfRange, "q");
        using var huge = await user.Client.GetAsync($"/api/quests?q={new string('x', 10_000)}", Token);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, huge.StatusCode);
    }

    [Fact]
    public async Task A_long_search_is_refused_and_a_favourite_is_marked_found_and_unmarked_by_its_owner_alone()
    {
        using var user = await graph.CreateUserAsync(Token);
        using (var tooLong = await user.Client.GetAsync($"/api/images?q={new string('a', SearchFilter.MaxQueryLength + 1)}", Token))
        {
            await ProblemAssert.IsProblemAsync(tooLong, HttpStatusCode.BadRequest, ErrorCodes.ValueOutOfRange, "q");
        }

        var kept = await graph.CreateAndWaitAsync(user, new { prompt = "a lantern to keep", model = "local-sketch", width = 64, height = 64 }, Token);
        await graph.CreateAndWaitAsync(user, new { prompt = "a lantern to forget", model = "local-sketch", width = 64, height = 64 }, Token);
        var image = kept.Images[0].Id;

        using (var other = await graph.CreateUserAsync(Token))
        using (var theirs = await other.Client.PutAsync($"/api/images/{image}/favorite", null, Token))
        {
            await ProblemAssert.IsProblemAsync(theirs, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound, null);
        }

        using (var notAnId = await user.Client.PutAsync("/api/images/not-an-id/favorite", null, Token))
        {
            await ProblemAssert.IsProblemAsync(notAnId, HttpStatusCode.NotFound, ErrorCodes.ImageNotFound, null);
        }

        // Marked five times at once: each answers 204, and it is one favourite.
        var marks = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => user.Client.PutAsync($"/api/images/{image}/favorite", null, Token)));
        Assert.All(marks, m => Assert.Equal(HttpStatusCode.NoContent, m.StatusCode));
        foreach (var mark in marks)
        {
            mark.Dispose();
        }

        var favourites = await user.Client.GetFromJsonAsync<ImagePage>("/api/images?favorite=true", GraphFixture.Json, Token);
        Assert.True(Assert.Single(favourites!.Items).Favorite);
        Assert.Equal(["a lantern to keep"], await PromptsAsync(user, "/api/quests?favorite=true&q=lantern"));

        using (var unmarked = await user.Client.DeleteAsync($"/api/images/{image}/favorite", Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, unmarked.StatusCode);
        }

        Assert.Empty((await user.Client.GetFromJsonAsync<ImagePage>("/api/images?favorite=true", GraphFixture.Json, Token))!.Items);
    }

    private static async Task<List<string>> PromptsAsync(TestUser user, string path) =>
        [.. (await user.Client.GetFromJsonAsync<QuestPage>(path, GraphFixture.Json, Token))!.Items.Select(q => q.Prompt)];
}
