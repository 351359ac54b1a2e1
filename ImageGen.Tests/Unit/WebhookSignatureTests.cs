using System.Security.Cryptography;
using System.Text;
using ImageGen.Api.Webhooks;
using ImageGen.Data.Entities;

namespace ImageGen.Tests.Unit;

/// <summary>Signatures follow the Standard Webhooks scheme exactly, and a rotation keeps both secrets valid for a day.</summary>
public sealed class WebhookSignatureTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeSeconds(1_790_000_000);
    private const string Body = """{"type":"quest.succeeded"}""";

    [Fact]
    public void The_signature_is_the_hmac_of_id_timestamp_and_body_under_the_secret()
    {
        var secret = WebhookSignature.NewSecret();
        var headers = WebhookSignature.Headers(new WebhookEndpoint { Secret = secret }, "msg_1", At, Body, TimeSpan.FromDays(1)).ToDictionary();

        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal("msg_1", headers["webhook-id"]);
        Assert.Equal("1790000000", headers["webhook-timestamp"]);
        // Computed here by the specification's recipe, not by the code under test.
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"msg_1.1790000000.{Body}")));
        Assert.Equal($"v1,{expected}", headers["webhook-signature"]);
    }

    [Fact]
    public void After_a_rotation_both_secrets_sign_for_the_overlap_then_only_the_new_one()
    {
        var endpoint = new WebhookEndpoint { Secret = WebhookSignature.NewSecret(), PreviousSecret = WebhookSignature.NewSecret(), RotatedAt = At.AddHours(-1) };

        var during = WebhookSignature.Headers(endpoint, "msg_1", At, Body, TimeSpan.FromDays(1)).ToDictionary()["webhook-signature"];
        var after = WebhookSignature.Headers(endpoint, "msg_1", At.AddDays(2), Body, TimeSpan.FromDays(1)).ToDictionary()["webhook-signature"];

        Assert.Equal(2, during.Split(' ').Length);
        Assert.Single(after.Split(' '));
    }

    [Fact]
    public void Secrets_are_never_the_same()
    {
        Assert.Equal(100, Enumerable.Range(0, 100).Select(_ => WebhookSignature.NewSecret()).Distinct().Count());
    }
}
