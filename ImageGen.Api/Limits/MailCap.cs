using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ImageGen.Api.Limits;

/// <summary>
/// At most <see cref="LimitOptions.MailsPerEmailPerHour"/> messages of one kind to one email address in an hour,
/// whoever asks and from wherever (the endpoint's own limit is per address): nobody can flood a mailbox through us.
/// Counted whether or not the address has an account, so the answer says nothing about that. The address is kept in
/// Redis only as a hash.
/// </summary>
internal sealed class MailCap(IConnectionMultiplexer redis, IOptions<LimitOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    public int PerHour => options.Value.MailsPerEmailPerHour;

    /// <summary>Takes one of the hour's messages to <paramref name="email"/>; false when they are spent.</summary>
    public async Task<bool> TakeAsync(string kind, string email)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToUpperInvariant())))[..32];
        return await BoundedSet.TakePlaceAsync(redis.GetDatabase(), $"imagegen:limits:mail:{kind}:{hash}", Window, PerHour, time) is not null;
    }
}
