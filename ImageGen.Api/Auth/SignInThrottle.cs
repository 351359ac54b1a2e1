using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace ImageGen.Api.Auth;

/// <summary>
/// Wrong passwords lock an account for the address they came from, not for everyone: five failures from one address
/// lock that address out of that account for five minutes, while its owner, elsewhere, signs in as usual. (A lock per
/// account alone let anyone keep the operator, whose email is a public default, locked out.) Counted in Redis, so every
/// API instance sees the same count.
/// </summary>
internal sealed class SignInThrottle(IConnectionMultiplexer redis)
{
    public const int MaxFailures = 5;
    public static readonly TimeSpan LockTime = TimeSpan.FromMinutes(5);

    /// <summary>How long this address is still locked out of this account; null when it is not.</summary>
    public async Task<TimeSpan?> LockedForAsync(string email, string address)
    {
        var db = redis.GetDatabase();
        var key = Key(email, address);
        var failures = await db.StringGetAsync(key);
        return failures.TryParse(out long count) && count >= MaxFailures ? await db.KeyTimeToLiveAsync(key) ?? LockTime : null;
    }

    /// <summary>Counts a failure; the lock's length when this one locked the address out.</summary>
    public async Task<TimeSpan?> FailedAsync(string email, string address)
    {
        var db = redis.GetDatabase();
        var key = Key(email, address);
        var failures = await db.StringIncrementAsync(key);
        if (failures == 1)
        {
            await db.KeyExpireAsync(key, LockTime);
        }

        return failures >= MaxFailures ? LockTime : null;
    }

    public Task SucceededAsync(string email, string address) => redis.GetDatabase().KeyDeleteAsync(Key(email, address));

    /// <summary>The email never appears in Redis in clear: only a hash of it.</summary>
    private static RedisKey Key(string email, string address) =>
        $"imagegen:signin:failures:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToUpperInvariant())))[..32]}:{address}";
}
