using StackExchange.Redis;

namespace ImageGen.Data.Queue;

/// <summary>
/// The latest preview frame of each running quest, where every API instance can read it: a client that connects
/// late, or reconnects to another instance, paints the picture as it stands. Frames are small (a WebP of at most
/// 256 px, a few KB) and expire on their own <see cref="Lifetime"/> after the last one, longer than any quest runs;
/// they are never kept with the quest.
/// </summary>
public sealed class QuestPreviews(IConnectionMultiplexer redis)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private static RedisKey Key(Guid questId) => "quest:preview:" + questId.ToString("N");

    /// <summary>A frame as the browser and the events carry it.</summary>
    public static string DataUri(byte[] webp) => "data:image/webp;base64," + Convert.ToBase64String(webp);

    public Task SaveAsync(Guid questId, string dataUri) =>
        redis.GetDatabase().StringSetAsync(Key(questId), dataUri, Lifetime, flags: CommandFlags.FireAndForget);

    public async Task<string?> LatestAsync(Guid questId)
    {
        var value = await redis.GetDatabase().StringGetAsync(Key(questId));
        return value.HasValue ? value.ToString() : null;
    }
}
