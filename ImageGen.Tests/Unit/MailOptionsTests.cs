using ImageGen.Api.Mail;

namespace ImageGen.Tests.Unit;

/// <summary>Mail settings that cannot work stop the API at start, each named; a link is built on the public address.</summary>
public sealed class MailOptionsTests
{
    private static MailOptions Working() => new() { Host = "smtp.example.com", Port = 587, From = "ImageGen <no-reply@example.com>", LinkBase = "https://images.example.com" };

    [Fact]
    public void Working_settings_have_no_problem() => Assert.Empty(Working().Problems());

    [Theory]
    [InlineData("host", "Mail:Host")]
    [InlineData("port", "Mail:Port")]
    [InlineData("from", "Mail:From")]
    [InlineData("link", "Mail:LinkBase")]
    [InlineData("user", "Mail:UserName and Mail:Password")]
    [InlineData("timeout", "Mail:TimeoutSeconds")]
    public void Each_setting_that_cannot_work_is_named(string broken, string named)
    {
        var options = Working();
        _ = broken switch
        {
            "host" => options.Host = " ",
            "port" => (options.Port = 70000).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "from" => options.From = "not an address",
            "link" => options.LinkBase = "ftp://images.example.com",
            "user" => options.UserName = "relay-user",
            _ => (options.TimeoutSeconds = 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        var problem = Assert.Single(options.Problems());
        Assert.StartsWith(named, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_link_keeps_the_public_address_and_escapes_its_query()
    {
        var options = Working();
        options.LinkBase = "https://images.example.com/app/";
        var link = options.Link("/account/verify-email", new Dictionary<string, string> { ["user"] = "u1", ["token"] = "a+b/c=" });
        Assert.Equal("https://images.example.com/app/account/verify-email?user=u1&token=a%2Bb%2Fc%3D", link.AbsoluteUri);
    }
}
