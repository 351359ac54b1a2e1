namespace ImageGen.Tests.Graph;

/// <summary>A registered, signed-in account with a client that sends its bearer token.</summary>
public sealed record TestUser(Guid Id, string Email, string Password, string AccessToken, string RefreshToken, HttpClient Client) : IDisposable
{
    public void Dispose() => Client.Dispose();
}
