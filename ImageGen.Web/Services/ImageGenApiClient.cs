using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;

namespace ImageGen.Web.Services;

/// <summary>The result of a call: the value, or the problem the API reported.</summary>
public sealed record ApiResult<T>(T? Value, ApiProblem? Problem)
{
    public bool Succeeded => Problem is null;
}

/// <summary>The parts of an RFC 9457 problem the UI shows.</summary>
public sealed record ApiProblem(string? Title, string? Detail, string? Code, string? Field, IReadOnlyList<FieldError>? Errors);

/// <summary>Talks to the API over service discovery (<c>http://api</c>); the browser never calls the API for the page's data.</summary>
public sealed class ImageGenApiClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async Task<IReadOnlyList<ModelDescriptor>> GetModelsAsync(CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync<List<ModelDescriptor>>("/api/models", Json, cancellationToken).ConfigureAwait(false) ?? [];

    public async Task<ApiResult<QuestDto>> CreateQuestAsync(CreateQuestRequest request, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("/api/quests", request, Json, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<QuestDto>(response, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ApiResult<QuestDto>> GetQuestAsync(Guid id, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"/api/quests/{id}", cancellationToken).ConfigureAwait(false);
        return await ReadAsync<QuestDto>(response, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<QuestDto>> ListQuestsAsync(int limit, CancellationToken cancellationToken)
    {
        var page = await http.GetFromJsonAsync<QuestPage>($"/api/quests?limit={limit}", Json, cancellationToken).ConfigureAwait(false);
        return page?.Items ?? [];
    }

    private static async Task<ApiResult<T>> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return new ApiResult<T>(await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false), null);
        }

        ApiProblem? problem = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Json, cancellationToken).ConfigureAwait(false);
        }

        return new ApiResult<T>(default, problem ?? new ApiProblem("The service did not answer as expected.", $"HTTP {(int)response.StatusCode}", null, null, null));
    }
}
