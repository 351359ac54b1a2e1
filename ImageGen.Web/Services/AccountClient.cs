using System.Net.Http.Headers;
using System.Net.Http.Json;
using ImageGen.Core.Accounts;

namespace ImageGen.Web.Services;

/// <summary>The calls made before there is a session (register, sign in) and the one that ends it.</summary>
public sealed class AccountClient(HttpClient http)
{
    public async Task<ApiResult<MeDto>> RegisterAsync(string email, string password, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("/api/auth/register", new CredentialsRequest { Email = email, Password = password }, ImageGenApiClient.Json, cancellationToken);
        return await ImageGenApiClient.ReadAsync<MeDto>(response, cancellationToken);
    }

    public async Task<ApiResult<TokenResponse>> LoginAsync(string email, string password, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("/api/auth/login", new CredentialsRequest { Email = email, Password = password }, ImageGenApiClient.Json, cancellationToken);
        return await ImageGenApiClient.ReadAsync<TokenResponse>(response, cancellationToken);
    }

    /// <summary>Who a fresh token belongs to, with their roles (the cookie carries the roles, for what the pages show).</summary>
    public async Task<ApiResult<MeDto>> GetMeAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request, cancellationToken);
        return await ImageGenApiClient.ReadAsync<MeDto>(response, cancellationToken);
    }

    public async Task LogoutAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request, cancellationToken);
    }
}
