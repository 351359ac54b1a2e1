using System.Security.Claims;
using ImageGen.Api.Auth;
using ImageGen.Core.Accounts;
using Microsoft.AspNetCore.Routing;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The actions a stolen session must not take alone carry the recent sign-in rule; the table is walked, so a new
/// endpoint that mints a credential or moves where our mail or webhooks go is decided here.
/// </summary>
public sealed class RecentSignInTests
{
    private static readonly HashSet<string> Sensitive = ["POST /api/keys", "PUT /api/webhooks", "POST /api/webhooks/secret"];

    [Fact]
    public void Exactly_the_sensitive_endpoints_need_a_recent_sign_in_or_the_password()
    {
        var marked = ApiEndpointTable.Endpoints.Where(e => e.Metadata.GetMetadata<RecentSignInRequired>() is not null).Select(Describe).ToHashSet();
        Assert.Equal(Sensitive.Order(), marked.Order());
    }

    [Fact]
    public void Each_sensitive_endpoint_takes_the_password_in_its_body()
    {
        foreach (var endpoint in ApiEndpointTable.Endpoints.Where(e => Sensitive.Contains(Describe(e))))
        {
            var handler = endpoint.Metadata.GetMetadata<System.Reflection.MethodInfo>()!;
            Assert.Contains(handler.GetParameters(), p => typeof(IConfirmsPassword).IsAssignableFrom(p.ParameterType));
        }
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(299, true)]
    [InlineData(301, false)]
    public void A_sign_in_counts_as_recent_for_the_window(int secondsAgo, bool recent)
    {
        var now = DateTimeOffset.UnixEpoch.AddDays(20_000);
        var user = RecentSignIn.Stamp(new ClaimsPrincipal(new ClaimsIdentity("test")), now.AddSeconds(-secondsAgo));
        Assert.Equal(recent, RecentSignIn.SignedInWithin(user, TimeSpan.FromMinutes(5), now));
    }

    [Fact]
    public void A_session_without_a_sign_in_time_is_not_recent_and_a_refresh_keeps_the_first()
    {
        var now = DateTimeOffset.UnixEpoch.AddDays(20_000);
        Assert.False(RecentSignIn.SignedInWithin(new ClaimsPrincipal(new ClaimsIdentity("test")), TimeSpan.FromMinutes(5), now));
        var first = RecentSignIn.Stamp(new ClaimsPrincipal(new ClaimsIdentity("test")), now.AddMinutes(-10));
        var refreshed = RecentSignIn.CarryOver(first, new ClaimsPrincipal(new ClaimsIdentity("test")));
        Assert.False(RecentSignIn.SignedInWithin(refreshed, TimeSpan.FromMinutes(5), now));
    }

    private static string Describe(RouteEndpoint endpoint) =>
        $"{endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods[0]} /{endpoint.RoutePattern.RawText!.Trim('/')}";
}
