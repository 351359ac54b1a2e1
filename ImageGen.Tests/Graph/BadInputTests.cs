using System.Net;
using System.Net.Http.Json;
using System.Text;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Graph;

/// <summary>Every bad request gets a ProblemDetails with a stable code and the field at fault, and nothing is queued.</summary>
public sealed class BadInputTests(SharedUser shared) : IClassFixture<SharedUser>
{
    private HttpClient Client => shared.User.Client;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { """{"prompt":"","model":"local-sketch"}""", ErrorCodes.PromptEmpty, "prompt" },
        { """{"prompt":"   \t ","model":"local-sketch"}""", ErrorCodes.PromptEmpty, "prompt" },
        { """{"model":"local-sketch"}""", ErrorCodes.Required, "prompt" },
        { $$"""{"prompt":"{{new string('x', 4001)}}","model":"local-sketch"}""", ErrorCodes.PromptTooLong, "prompt" },
        { """{"prompt":"a cat","model":"no-such-model"}""", ErrorCodes.UnknownModel, "model" },
        // A NUL reached Postgres and answered 500.
        { """{"prompt":"a cat\u0000","model":"local-sketch"}""", ErrorCodes.ControlCharacters, "prompt" },
        { """{"prompt":"a cat"}""", ErrorCodes.Required, "model" },
        { """{"prompt":"a cat","model":"local-sketch","width":32,"height":512}""", ErrorCodes.SizeOutOfRange, "width" },
        { """{"prompt":"a cat","model":"local-sketch","width":512,"height":4096}""", ErrorCodes.SizeOutOfRange, "height" },
        { """{"prompt":"a cat","model":"local-sketch","width":516,"height":512}""", ErrorCodes.SizeNotMultiple, "width" },
        { """{"prompt":"a cat","model":"local-sketch","seed":-1}""", ErrorCodes.SeedOutOfRange, "seed" },
        { """{"prompt":"a cat","model":"local-sketch","width":"abc"}""", ErrorCodes.InvalidType, "width" },
        { """{"prompt":"a cat","model":"local-sketch","width":"512"}""", ErrorCodes.InvalidType, "width" },
        { """{"prompt":"a cat","model":"local-sketch","width":512.5}""", ErrorCodes.InvalidType, "width" },
        { """{"prompt":42,"model":"local-sketch"}""", ErrorCodes.InvalidType, "prompt" },
        { """{"prompt":"a cat","model":["local-sketch"]}""", ErrorCodes.InvalidType, "model" },
        { """[1,2,3]""", ErrorCodes.InvalidType, "body" },
        { """{"prompt":"a cat","model":"local-sketch",""", ErrorCodes.MalformedJson, "body" },
        { """{"prompt":"a cat" "model":"local-sketch"}""", ErrorCodes.MalformedJson, "body" },
        { """not json at all""", ErrorCodes.MalformedJson, "body" },
        { "", ErrorCodes.Required, "body" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_quest_body_is_a_400_naming_the_field_and_queues_nothing(string body, string code, string field)
    {
        var newestBefore = await NewestQuestIdAsync();

        using var response = await Client.PostAsync("/api/quests", new StringContent(body, Encoding.UTF8, "application/json"), Token);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == field);
        Assert.Equal(newestBefore, await NewestQuestIdAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_415()
    {
        using var response = await Client.PostAsync("/api/quests", new StringContent("prompt=a cat", Encoding.UTF8, "text/plain"), Token);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Theory]
    [InlineData("/api/quests/6b1a3c52-0000-7000-8000-000000000000", "quest_not_found")]
    [InlineData("/api/quests/not-a-guid", "quest_not_found")]
    [InlineData("/images/6b1a3c5200007000800000000000000a", "image_not_found")]
    [InlineData("/images/..%2F..%2Fetc%2Fpasswd", "image_not_found")]
    public async Task Unknown_ids_are_404_problems(string path, string code)
    {
        using var response = await Client.GetAsync(path, Token);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, code);
    }

    [Theory]
    [InlineData("/api/quests?limit=0", "limit", ErrorCodes.InvalidPaging)]
    [InlineData("/api/quests?limit=101", "limit", ErrorCodes.InvalidPaging)]
    [InlineData("/api/quests?limit=abc", "limit", ErrorCodes.InvalidType)]
    [InlineData("/api/quests?cursor=bm9wZQ", "cursor", ErrorCodes.InvalidPaging)]
    [InlineData("/api/quests?cursor=%%%", "cursor", ErrorCodes.InvalidPaging)]
    public async Task Bad_paging_is_a_400_naming_the_parameter(string path, string field, string code)
    {
        using var response = await Client.GetAsync(path, Token);
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    private async Task<Guid?> NewestQuestIdAsync()
    {
        var page = await Client.GetFromJsonAsync<QuestPage>("/api/quests?limit=1", GraphFixture.Json, Token);
        return page!.Items.FirstOrDefault()?.Id;
    }
}
