using System.Net.Http.Headers;
using ImageGen.Core.Accounts;

namespace ImageGen.Web.Services;

/// <summary>The calls made before there is a session (register, sign in) and the one that ends it.</summary>
public sealed class AccountClient(HttpClient http)
{
    public async Task<ApiResult<MeDto>> RegisterAsync(string email, string password, string clientAddress, CancellationToken cancellationToken)
    {
        using var response = await PostAsync("/api/auth/register", new CredentialsRequest { Email = email, Password = password }, clientAddress, cancellationToken);
        return await ImageGenApiClient.ReadAsync<MeDto>(response, cancellationToken);
    }

    public async Task<ApiResult<TokenResponse>> LoginAsync(string email, string password, string clientAddress, CancellationToken cancellationToken)
    {
        using var response = await PostAsync("/api/auth/login", new CredentialsRequest { Email = email, Password = password }, clientAddress, cancellationToken);
        return await ImageGenApiClient.ReadAsync<TokenResponse>(response, cancellationToken);
    }

    public async Task<ApiResult<VerifyEmailResponse>> VerifyEmailAsync(Guid userId, string token, string clientAddress, CancellationToken cancellationToken)
    {
        using var response = await PostAsync("/api/auth/verify-email", new VerifyEmailRequest { UserId = userId, Token = token }, clientAddress, cancellationToken);
        return await ImageGenApiClient.ReadAsync<VerifyEmailResponse>(response, cancellationToken);
    }

    public async Task<ApiResult<ForgotPasswordResponse>> ForgotPasswordAsync(string email, string clientAddress, CancellationToken cancellationToken)
    {
        using var response = await PostAsync("/api/auth/forgot-password", new ForgotPasswordRequest { Email = email }, clientAddress, cancellationToken);
        return await ImageGenApiClient.ReadAsync<ForgotPasswordResponse>(response, cancellationToken);
    }

    public async Task<ApiResult<object>> ResetPasswordAsync(ResetPasswordRequest request, string clientAddress, CancellationToken cancellationToken)
    {
        using var response = await PostAsync("/api/auth/reset-password", request, clientAddress, cancellationToken);
        return await ImageGenApiClient.ReadAsync<object>(response, cancellationToken);
    }

    /// <summary>Says whose address the attempt comes from, so the API's per-address sign-in lock applies to the person, not to this server.</summary>
    private Task<HttpResponseMessage> PostAsync<T>(string path, T body, string clientAddress, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: ImageGenApiClient.Json) };
        request.Headers.TryAddWithoutValidation(ImageGen.ServiceDefaults.ClientAddress.Header, clientAddress);
        return SendAndDisposeAsync(request, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAndDisposeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            return await http.SendAsync(request, cancellationToken);
        }
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
