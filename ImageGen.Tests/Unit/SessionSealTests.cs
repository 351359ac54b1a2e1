using ImageGen.Web.Services;

namespace ImageGen.Tests.Unit;

/// <summary>What Redis holds for a web session tells a reader nothing without the session's cookie.</summary>
public sealed class SessionSealTests
{
    private const string SessionId = "5f1c0e9a4b7d2e3f8a6c1b0d9e8f7a6b5c4d3e2f1a0b9c8d";
    private const string Tokens = """{"AccessToken":"eyJhbGciOi.secret","RefreshToken":"r-123"}""";

    [Fact]
    public void Sealed_tokens_open_with_their_session_id_and_show_nothing_in_the_stored_text()
    {
        var stored = SessionSeal.Seal(SessionId, Tokens);

        Assert.DoesNotContain("eyJ", stored);
        Assert.DoesNotContain("secret", stored);
        Assert.Equal(Tokens, SessionSeal.Open(SessionId, stored));
        // A fresh nonce each time: the same tokens never look the same twice.
        Assert.NotEqual(stored, SessionSeal.Seal(SessionId, Tokens));
    }

    [Fact]
    public void Another_session_id_or_an_altered_value_opens_nothing()
    {
        var stored = SessionSeal.Seal(SessionId, Tokens);
        var bytes = Convert.FromBase64String(stored);
        bytes[^1] ^= 1;

        Assert.Null(SessionSeal.Open(SessionId[..^1] + "0", stored));
        Assert.Null(SessionSeal.Open(SessionId, Convert.ToBase64String(bytes)));
        Assert.Null(SessionSeal.Open(SessionId, "not base64 at all"));
        Assert.Null(SessionSeal.Open(SessionId, "AAAA"));
    }

    [Fact]
    public void The_name_a_session_is_stored_under_does_not_give_away_its_id()
    {
        var name = SessionSeal.LookupName(SessionId);

        Assert.DoesNotContain(SessionId, name);
        Assert.Equal(name, SessionSeal.LookupName(SessionId));
        Assert.NotEqual(name, SessionSeal.LookupName(SessionId[..^1] + "0"));
    }
}
