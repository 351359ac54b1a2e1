using System.Buffers.Binary;
using ImageGen.Data;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImageGen.Tests.Unit;

public sealed class PasswordHashingTests
{
    private static ServiceProvider Services(string? iterations)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(iterations is null ? [] : [new("Passwords:HashIterations", iterations)])
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddImageGenIdentity();
        return services.BuildServiceProvider();
    }

    /// <summary>The iteration count a version 3 Identity hash carries: bytes 5-8, big-endian, after the format byte and the PRF.</summary>
    private static int IterationsOf(string hash) => BinaryPrimitives.ReadInt32BigEndian(Convert.FromBase64String(hash).AsSpan(5, 4));

    [Theory]
    [InlineData(null, 100_000)]
    [InlineData("1000", 1_000)]
    [InlineData("12345", 12_345)]
    public void Passwords_are_hashed_with_the_configured_cost_and_still_verify(string? configured, int expected)
    {
        using var services = Services(configured);
        var hasher = services.GetRequiredService<IPasswordHasher<ImageGenUser>>();
        var user = new ImageGenUser { UserName = "someone@example.com" };

        var hash = hasher.HashPassword(user, "Passw0rd-for-tests");

        Assert.Equal(expected, IterationsOf(hash));
        Assert.Equal(PasswordVerificationResult.Success, hasher.VerifyHashedPassword(user, hash, "Passw0rd-for-tests"));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(user, hash, "Passw0rd-for-test"));
    }

    [Fact]
    public void A_password_hashed_at_a_lower_cost_still_signs_in_and_is_hashed_again_at_the_raised_one()
    {
        using var before = Services("1000");
        using var after = Services(null);
        var user = new ImageGenUser { UserName = "someone@example.com" };
        var hash = before.GetRequiredService<IPasswordHasher<ImageGenUser>>().HashPassword(user, "Passw0rd-for-tests");

        var verified = after.GetRequiredService<IPasswordHasher<ImageGenUser>>().VerifyHashedPassword(user, hash, "Passw0rd-for-tests");

        // Identity's sign-in stores a new hash, at the configured cost, when it sees this answer.
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, verified);
    }

    [Theory]
    [InlineData("999")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("20000000")]
    public void A_cost_out_of_range_stops_the_service_at_start_with_the_setting_named(string configured)
    {
        using var services = Services(configured);

        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<PasswordHashingOptions>>().Value);
        Assert.Contains("Passwords:HashIterations", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lots")]
    [InlineData("1e5")]
    [InlineData("100000.5")]
    public void A_cost_that_is_no_whole_number_stops_the_service_at_start_with_the_setting_named(string configured)
    {
        using var services = Services(configured);

        var refused = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IOptions<PasswordHashingOptions>>().Value);
        Assert.Contains("Passwords:HashIterations", refused.Message, StringComparison.Ordinal);
    }
}
