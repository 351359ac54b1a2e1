using ImageGen.ServiceDefaults;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Api.Limits;

/// <summary>
/// At most <see cref="LimitOptions.SignupsPerDay"/> new accounts per address in 24 hours, whichever way the sign-up came
/// (the API, or the web form, which signs up through it): checked on the register endpoint itself, so no spelling of
/// the path steps around it. A place is taken before the account is made, in one atomic step in Redis (so parallel
/// sign-ups cannot all pass, on any number of instances, and a restart forgets nothing), and given back if the sign-up
/// fails: a person who mistyped keeps their allowance.
/// </summary>
internal sealed class SignupCap(IConnectionMultiplexer redis, IOptions<LimitOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromDays(1);

    public int PerDay => options.Value.SignupsPerDay;

    /// <summary>A place for one more account from this caller's address, or null when the day's are taken.</summary>
    public async Task<SignupPlace?> TakeAsync(HttpContext context)
    {
        var key = (RedisKey)$"imagegen:limits:signups:{ClientAddress.LimitKey(context)}";
        return await BoundedSet.TakePlaceAsync(redis.GetDatabase(), key, Window, PerDay, time) is { } place ? new SignupPlace(key, place) : null;
    }

    /// <summary>The sign-up failed: its place goes back.</summary>
    public Task GiveBackAsync(SignupPlace place) => redis.GetDatabase().SortedSetRemoveAsync(place.Key, place.Id);
}

/// <summary>One place taken under the cap, until the sign-up it was taken for succeeds or gives it back.</summary>
internal sealed record SignupPlace(RedisKey Key, string Id);
