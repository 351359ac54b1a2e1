using ImageGen.Core.Quests;
using ImageGen.Web.Components.Pages.Account;

namespace ImageGen.Tests.Unit;

/// <summary>The account pages show their own sentences for an error code, never text a link carries.</summary>
public sealed class FormErrorsTests
{
    [Theory]
    [InlineData("Your account is suspended. Call +1 555 0100 to restore it.")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("invalid_credentials and more")]
    public void Text_in_the_error_parameter_is_never_shown(string text)
    {
        var shown = FormErrors.MessageFor(text, "Sign-in failed. Try again.");
        Assert.Equal("Sign-in failed. Try again.", shown);
    }

    [Fact]
    public void A_known_code_gets_its_own_sentence_and_no_code_gets_none()
    {
        Assert.Equal("The email or the password is wrong.", FormErrors.MessageFor(ErrorCodes.InvalidCredentials, "x"));
        Assert.Null(FormErrors.MessageFor(null, "x"));
        Assert.Null(FormErrors.MessageFor("", "x"));
    }

    [Theory]
    [InlineData("me@example.com", "me@example.com")]
    [InlineData("\"Support\" <me@example.com>", null)]
    [InlineData("me@example.com\" autofocus onfocus=\"alert(1)", null)]
    [InlineData("Call 555 0100", null)]
    public void Only_a_plain_address_goes_back_in_the_email_field(string email, string? shown) => Assert.Equal(shown, FormErrors.EmailToShow(email));
}
