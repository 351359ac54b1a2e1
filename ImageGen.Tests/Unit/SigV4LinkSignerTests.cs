using ImageGen.Data.Storage;

namespace ImageGen.Tests.Unit;

public sealed class SigV4LinkSignerTests
{
    [Fact]
    public void A_link_signs_exactly_as_AWS_documents_its_own_example()
    {
        // The worked example of AWS's "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)".
        var signer = new SigV4LinkSigner("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1");
        var signedAt = new DateTimeOffset(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);

        var link = signer.Sign(new Uri("https://examplebucket.s3.amazonaws.com"), "/test.txt", signedAt, signedAt.AddSeconds(86400));

        Assert.Equal(
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
            link.ToString());
    }

    [Fact]
    public void A_lifetime_past_what_S3_accepts_is_cut_to_seven_days()
    {
        var signer = new SigV4LinkSigner("AK", "SK", "auto");
        var now = DateTimeOffset.UnixEpoch.AddYears(50);

        var link = signer.Sign(new Uri("https://store.example"), "/b/k.png", now, now.AddDays(30)).ToString();

        Assert.Contains("X-Amz-Expires=604800&", link);
    }
}
