using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace ImageGen.Data;

/// <summary>
/// The keys that protect bearer and refresh tokens, kept in Postgres so every API instance accepts every token. The
/// same registration wherever the key ring is touched: the API, and the migration step that makes the first key.
/// </summary>
public static class TokenKeys
{
    public static void AddImageGenDataProtection(this IServiceCollection services) =>
        services.AddDataProtection().SetApplicationName("ImageGen").PersistKeysToDbContext<ImageGenDbContext>();

    /// <summary>
    /// Makes sure the key ring has a key before any API instance starts. Left to the instances, two replicas starting
    /// together on a new database could each create one, and a token one of them issued would be refused by the other
    /// until it reloaded its key ring.
    /// </summary>
    public static void EnsureKey(IServiceProvider services) =>
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector("ImageGen.KeyRing").Protect([1]);
}
