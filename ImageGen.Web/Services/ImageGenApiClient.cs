using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using Microsoft.AspNetCore.Components.Authorization;

namespace ImageGen.Web.Services;

/// <summary>The result of a call: the value, or the problem the API reported.</summary>
public sealed record ApiResult<T>(T? Value, ApiProblem? Problem)
{
    public bool Succeeded => Problem is null;
}

/// <summary>The parts of an RFC 9457 problem the UI shows.</summary>
public sealed record ApiProblem(int? Status, string? Title, string? Detail, string? Code, string? Field, IReadOnlyList<FieldError>? Errors);

/// <summary>
/// Talks to the API over service discovery (<c>http://api</c>) on behalf of the signed-in person, with the bearer
/// token kept in their server-side session. An expired access token is refreshed once, transparently.
/// </summary>
public sealed class ImageGenApiClient(HttpClient http, WebSessionStore sessions, AuthenticationStateProvider authentication)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>Each provider's health, so the form can say when a model is degraded.</summary>
    public async Task<IReadOnlyList<ImageGen.Core.Providers.ProviderHealthDto>> GetProvidersAsync(CancellationToken cancellationToken) =>
        (await SendAsync<List<ImageGen.Core.Providers.ProviderHealthDto>>(HttpMethod.Get, "/api/providers", null, cancellationToken)).Value ?? [];

    /// <summary>Submits with an Idempotency-Key of its own, so a retry of this call (ours or the HTTP client's) cannot make a second quest.</summary>
    public Task<ApiResult<QuestDto>> CreateQuestAsync(CreateQuestRequest request, CancellationToken cancellationToken) =>
        SendAsync<QuestDto>(HttpMethod.Post, "/api/quests", request, cancellationToken, NewIdempotencyKey());

    /// <summary>Cancels one of the caller's quests (see the API for what a cancel costs).</summary>
    public Task<ApiResult<QuestDto>> CancelQuestAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<QuestDto>(HttpMethod.Post, $"/api/quests/{id}/cancel", null, cancellationToken, NewIdempotencyKey());

    public Task<ApiResult<QuestDto>> GetQuestAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<QuestDto>(HttpMethod.Get, $"/api/quests/{id}", null, cancellationToken);

    public async Task<IReadOnlyList<QuestDto>> ListQuestsAsync(int limit, CancellationToken cancellationToken) =>
        (await SendAsync<QuestPage>(HttpMethod.Get, $"/api/quests?limit={limit}", null, cancellationToken)).Value?.Items ?? [];

    /// <summary>One page of the caller's gallery, newest first; <paramref name="cursor"/> from the previous page.</summary>
    public Task<ApiResult<ImagePage>> ListImagesAsync(int limit, string? cursor, CancellationToken cancellationToken, string? search = null, bool favorites = false,
        Guid? collection = null) =>
        SendAsync<ImagePage>(HttpMethod.Get, $"/api/images?limit={limit}{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}"
            + $"{(string.IsNullOrWhiteSpace(search) ? "" : "&q=" + Uri.EscapeDataString(search))}{(favorites ? "&favorite=true" : "")}"
            + $"{(collection is { } c ? $"&collection={c}" : "")}", null, cancellationToken);

    /// <summary>Marks one of the caller's images a favourite, or takes the mark off.</summary>
    public Task<ApiResult<object>> SetFavoriteAsync(Guid id, bool favorite, CancellationToken cancellationToken) =>
        SendAsync<object>(favorite ? HttpMethod.Put : HttpMethod.Delete, $"/api/images/{id}/favorite", null, cancellationToken);

    /// <summary>New links (the original and every smaller width) for one of the caller's images, living <paramref name="lifetime"/>.</summary>
    public Task<ApiResult<SignedUrlResponse>> CreateImageLinksAsync(Guid id, TimeSpan lifetime, CancellationToken cancellationToken) =>
        SendAsync<SignedUrlResponse>(HttpMethod.Post, $"/api/images/{id}/signed-url", new SignedUrlRequest { ExpiresIn = (int)lifetime.TotalSeconds }, cancellationToken);

    public Task<ApiResult<object>> DeleteImageAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<object>(HttpMethod.Delete, $"/api/images/{id}", null, cancellationToken);

    public Task<ApiResult<ImageGen.Core.Operations.OperationsStatsDto>> GetStatsAsync(string window, CancellationToken cancellationToken) =>
        SendAsync<ImageGen.Core.Operations.OperationsStatsDto>(HttpMethod.Get, $"/api/admin/stats?window={Uri.EscapeDataString(window)}", null, cancellationToken);

    public Task<ApiResult<QuestDebugDto>> GetQuestDebugAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<QuestDebugDto>(HttpMethod.Get, $"/api/admin/quests/{id}/debug", null, cancellationToken);

    public Task<ApiResult<List<UserSummaryDto>>> SearchUsersAsync(string email, CancellationToken cancellationToken) =>
        SendAsync<List<UserSummaryDto>>(HttpMethod.Get, $"/api/admin/users?email={Uri.EscapeDataString(email)}", null, cancellationToken);

    public Task<ApiResult<List<QuestDto>>> ListUserQuestsAsync(Guid userId, CancellationToken cancellationToken) =>
        SendAsync<List<QuestDto>>(HttpMethod.Get, $"/api/admin/users/{userId}/quests?limit=10", null, cancellationToken);

    public Task<ApiResult<CreditEntryDto>> GrantCreditsAsync(Guid userId, int amount, string reason, CancellationToken cancellationToken) =>
        SendAsync<CreditEntryDto>(HttpMethod.Post, $"/api/admin/users/{userId}/credits",
            new AdminCreditRequest { Kind = CreditEntryKind.Grant, Amount = amount, Reason = reason }, cancellationToken, NewIdempotencyKey());

    private static string NewIdempotencyKey() => Guid.NewGuid().ToString("N");

    public Task<ApiResult<MeDto>> GetMeAsync(CancellationToken cancellationToken) =>
        SendAsync<MeDto>(HttpMethod.Get, "/api/me", null, cancellationToken);

    public Task<ApiResult<object>> ChangePasswordAsync(ChangePasswordRequest request, CancellationToken cancellationToken) =>
        SendAsync<object>(HttpMethod.Post, "/api/auth/change-password", request, cancellationToken);

    public Task<ApiResult<SpendDto>> GetSpendAsync(CancellationToken cancellationToken) =>
        SendAsync<SpendDto>(HttpMethod.Get, "/api/credits/spend", null, cancellationToken);

    public Task<ApiResult<object>> ResendVerificationAsync(CancellationToken cancellationToken) =>
        SendAsync<object>(HttpMethod.Post, "/api/auth/resend-verification", null, cancellationToken);

    public Task<ApiResult<List<ApiKeyDto>>> ListKeysAsync(CancellationToken cancellationToken) =>
        SendAsync<List<ApiKeyDto>>(HttpMethod.Get, "/api/keys", null, cancellationToken);

    public Task<ApiResult<CreatedApiKeyDto>> CreateKeyAsync(CreateApiKeyRequest request, CancellationToken cancellationToken) =>
        SendAsync<CreatedApiKeyDto>(HttpMethod.Post, "/api/keys", request, cancellationToken);

    public Task<ApiResult<object>> RevokeKeyAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<object>(HttpMethod.Delete, $"/api/keys/{id}", null, cancellationToken);

    public Task<ApiResult<ShareLinkResponse>> ShareImageAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<ShareLinkResponse>(HttpMethod.Post, $"/api/images/{id}/share", null, cancellationToken);

    public Task<ApiResult<object>> UnshareImageAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<object>(HttpMethod.Delete, $"/api/images/{id}/share", null, cancellationToken);

    public Task<ApiResult<BulkDeleteResponse>> DeleteImagesAsync(IReadOnlyList<Guid> ids, CancellationToken cancellationToken) =>
        SendAsync<BulkDeleteResponse>(HttpMethod.Post, "/api/images/bulk-delete", new ImageIdsRequest { Ids = ids }, cancellationToken);

    /// <summary>The zip of several images, its body not yet read: the caller streams it on and disposes of it.</summary>
    public async Task<HttpResponseMessage> DownloadImagesAsync(IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/download") { Content = JsonContent.Create(new ImageIdsRequest { Ids = ids }, options: Json) };
        if (await GetAccessTokenAsync() is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    public Task<ApiResult<List<CollectionDto>>> ListCollectionsAsync(CancellationToken cancellationToken) =>
        SendAsync<List<CollectionDto>>(HttpMethod.Get, "/api/collections", null, cancellationToken);

    public Task<ApiResult<CollectionDto>> CreateCollectionAsync(string name, CancellationToken cancellationToken) =>
        SendAsync<CollectionDto>(HttpMethod.Post, "/api/collections", new CollectionRequest(name), cancellationToken);

    public Task<ApiResult<object>> AddToCollectionAsync(Guid collectionId, Guid imageId, CancellationToken cancellationToken) =>
        SendAsync<object>(HttpMethod.Put, $"/api/collections/{collectionId}/images/{imageId}", null, cancellationToken);

    public Task<ApiResult<List<ImageGen.Core.Operations.AlertChannelDto>>> ListAlertChannelsAsync(CancellationToken cancellationToken) =>
        SendAsync<List<ImageGen.Core.Operations.AlertChannelDto>>(HttpMethod.Get, "/api/admin/alert-channels", null, cancellationToken);

    public Task<ApiResult<ImageGen.Core.Operations.AlertChannelDto>> CreateAlertChannelAsync(string kind, string target, CancellationToken cancellationToken) =>
        SendAsync<ImageGen.Core.Operations.AlertChannelDto>(HttpMethod.Post, "/api/admin/alert-channels", new ImageGen.Core.Operations.CreateAlertChannelRequest(kind, target), cancellationToken);

    public Task<ApiResult<object>> DeleteAlertChannelAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<object>(HttpMethod.Delete, $"/api/admin/alert-channels/{id}", null, cancellationToken);

    public Task<ApiResult<ImageGen.Core.Operations.AlertDeliveryDto>> TestAlertChannelAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<ImageGen.Core.Operations.AlertDeliveryDto>(HttpMethod.Post, $"/api/admin/alert-channels/{id}/test", null, cancellationToken);

    public Task<ApiResult<List<ImageGen.Core.Operations.AlertDeliveryDto>>> ListAlertDeliveriesAsync(CancellationToken cancellationToken) =>
        SendAsync<List<ImageGen.Core.Operations.AlertDeliveryDto>>(HttpMethod.Get, "/api/admin/alert-deliveries?limit=200", null, cancellationToken);

    public Task<ApiResult<FallbackSettingsDto>> GetFallbacksAsync(CancellationToken cancellationToken) =>
        SendAsync<FallbackSettingsDto>(HttpMethod.Get, "/api/account/fallbacks", null, cancellationToken);

    public Task<ApiResult<FallbackSettingsDto>> SetFallbacksAsync(IReadOnlyList<string> models, CancellationToken cancellationToken) =>
        SendAsync<FallbackSettingsDto>(HttpMethod.Put, "/api/account/fallbacks", new FallbackSettingsDto(models), cancellationToken);

    public Task<ApiResult<ImageDto>> GetImageAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<ImageDto>(HttpMethod.Get, $"/api/images/{id}", null, cancellationToken);

    /// <summary>Sends an image in (a PNG: an edit's mask), as <c>POST /api/uploads</c> takes it.</summary>
    public Task<ApiResult<UploadDto>> UploadAsync(byte[] png, string fileName, CancellationToken cancellationToken) =>
        SendAsync<UploadDto>(HttpMethod.Post, "/api/uploads", (Func<HttpContent>)(() =>
        {
            var file = new ByteArrayContent(png);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            return new MultipartFormDataContent { { file, "file", fileName } };
        }), cancellationToken);

    public Task<ApiResult<ImageGen.Core.Webhooks.WebhookSettingsDto>> GetWebhooksAsync(CancellationToken cancellationToken) =>
        SendAsync<ImageGen.Core.Webhooks.WebhookSettingsDto>(HttpMethod.Get, "/api/webhooks", null, cancellationToken);

    public Task<ApiResult<ImageGen.Core.Webhooks.WebhookSettingsDto>> UpdateWebhooksAsync(ImageGen.Core.Webhooks.UpdateWebhookRequest request, CancellationToken cancellationToken) =>
        SendAsync<ImageGen.Core.Webhooks.WebhookSettingsDto>(HttpMethod.Put, "/api/webhooks", request, cancellationToken);

    public Task<ApiResult<ImageGen.Core.Webhooks.WebhookSecretDto>> RotateWebhookSecretAsync(string? currentPassword, CancellationToken cancellationToken) =>
        SendAsync<ImageGen.Core.Webhooks.WebhookSecretDto>(HttpMethod.Post, "/api/webhooks/secret", new ImageGen.Core.Webhooks.RotateWebhookSecretRequest(currentPassword), cancellationToken);

    public Task<ApiResult<ImageGen.Core.Webhooks.WebhookDeliveryPage>> ListWebhookDeliveriesAsync(int limit, CancellationToken cancellationToken) =>
        SendAsync<ImageGen.Core.Webhooks.WebhookDeliveryPage>(HttpMethod.Get, $"/api/webhooks/deliveries?limit={limit}", null, cancellationToken);

    /// <summary>The current access token, refreshed when it is about to expire; null when signed out or the session ended.</summary>
    public async Task<string?> GetAccessTokenAsync(bool forceRefresh = false)
    {
        var state = await authentication.GetAuthenticationStateAsync();
        if (WebSessionStore.SessionId(state.User) is not { } sessionId || await sessions.GetAsync(sessionId) is not { } tokens)
        {
            return null;
        }

        if (!forceRefresh && tokens.AccessTokenExpiresAt > DateTimeOffset.UtcNow.AddSeconds(30))
        {
            return tokens.AccessToken;
        }

        var current = await sessions.RefreshOnceAsync(sessionId, tokens, async refreshToken =>
        {
            using var response = await http.PostAsJsonAsync("/api/auth/refresh", new RefreshRequest { RefreshToken = refreshToken }, Json);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<TokenResponse>(Json) : null;
        });
        return current?.AccessToken;
    }

    private async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken, string? idempotencyKey = null)
    {
        var token = await GetAccessTokenAsync();
        using var response = await SendOnceAsync(method, path, body, token, idempotencyKey, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized && token is not null)
        {
            // Revoked or expired early: refresh once, then give up and let the page ask the person to sign in.
            var refreshed = await GetAccessTokenAsync(forceRefresh: true);
            if (refreshed is not null)
            {
                using var retried = await SendOnceAsync(method, path, body, refreshed, idempotencyKey, cancellationToken);
                return await ReadAsync<T>(retried, cancellationToken);
            }
        }

        return await ReadAsync<T>(response, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string path, object? body, string? token, string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (idempotencyKey is not null)
        {
            request.Headers.Add(IdempotencyHeader, idempotencyKey);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        // A body is JSON, or (for files) a factory of the content, made afresh if the call is sent again.
        request.Content = body switch
        {
            null => null,
            Func<HttpContent> content => content(),
            _ => JsonContent.Create(body, body.GetType(), options: Json),
        };

        return await http.SendAsync(request, cancellationToken);
    }

    internal static async Task<ApiResult<T>> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            var value = response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0 ? default : await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken);
            return new ApiResult<T>(value, null);
        }

        ApiProblem? problem = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Json, cancellationToken);
        }

        return new ApiResult<T>(default, problem ?? new ApiProblem((int)response.StatusCode, "The service did not answer as expected.", $"HTTP {(int)response.StatusCode}", null, null, null));
    }
}
