using System.Security.Claims;
using ImageGen.Api.Hubs;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ImageGen.Tests.Unit;

/// <summary>An ended credential closes its hub connections, including one still being opened when it ended.</summary>
public sealed class HubSessionsTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-29T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private HubSessions NewSessions() => new(null!, _time, NullLogger<HubSessions>.Instance);

    [Fact]
    public void A_revoked_key_closes_its_connections_and_no_others()
    {
        var sessions = NewSessions();
        var key = Guid.NewGuid();
        var withKey = Connection(Guid.NewGuid(), key: key);
        var withOtherKey = Connection(Guid.NewGuid(), key: Guid.NewGuid());
        sessions.Add(withKey);
        sessions.Add(withOtherKey);

        sessions.Ended($"key:{key:N}");

        Assert.True(withKey.Aborted);
        Assert.False(withOtherKey.Aborted);
    }

    [Fact]
    public void A_connection_added_just_after_its_key_was_revoked_is_closed_on_arrival()
    {
        // The client's handshake completes before the server registers the connection: a revocation announced in
        // between used to miss it, and the connection lived on with a dead key.
        var sessions = NewSessions();
        var key = Guid.NewGuid();
        sessions.Ended($"key:{key:N}");
        _time.Advance(TimeSpan.FromSeconds(30));

        var late = Connection(Guid.NewGuid(), key: key);
        sessions.Add(late);

        Assert.True(late.Aborted);
    }

    [Fact]
    public void A_user_who_signed_out_and_back_in_keeps_the_new_connection()
    {
        var sessions = NewSessions();
        var user = Guid.NewGuid();
        sessions.Ended($"user:{user:N}");

        var fresh = Connection(user, session: "a-new-session");
        sessions.Add(fresh);

        Assert.False(fresh.Aborted);
    }

    [Fact]
    public void An_ended_session_is_forgotten_after_a_while()
    {
        var sessions = NewSessions();
        sessions.Ended("session:old");
        _time.Advance(TimeSpan.FromMinutes(3));
        sessions.Ended("key:" + Guid.NewGuid().ToString("N"));

        var connection = Connection(Guid.NewGuid(), session: "old");
        sessions.Add(connection);

        Assert.False(connection.Aborted);
    }

    private static FakeContext Connection(Guid user, Guid? key = null, string? session = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, user.ToString()) };
        if (key is { } k)
        {
            claims.Add(new Claim("api_key_id", k.ToString()));
        }

        if (session is not null)
        {
            claims.Add(new Claim(Api.Auth.SessionGuard.SessionClaim, session));
        }

        return new FakeContext(new ClaimsPrincipal(new ClaimsIdentity(claims, "test")));
    }

    private sealed class FakeContext(ClaimsPrincipal user) : HubCallerContext
    {
        public bool Aborted { get; private set; }

        public override string ConnectionId { get; } = Guid.NewGuid().ToString("N");

        public override string? UserIdentifier => null;

        public override ClaimsPrincipal? User => user;

        public override IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();

        public override Microsoft.AspNetCore.Http.Features.IFeatureCollection Features { get; } = new Microsoft.AspNetCore.Http.Features.FeatureCollection();

        public override CancellationToken ConnectionAborted => CancellationToken.None;

        public override void Abort() => Aborted = true;
    }
}
