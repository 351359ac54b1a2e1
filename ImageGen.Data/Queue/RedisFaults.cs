using StackExchange.Redis;

namespace ImageGen.Data.Queue;

/// <summary>
/// What a Redis outage looks like to a caller: a connection failure or server error (<see cref="RedisException"/>),
/// or a command that timed out (<see cref="RedisTimeoutException"/>, which is a <see cref="TimeoutException"/> and
/// not a <see cref="RedisException"/>). Code that carries on without Redis catches both.
/// </summary>
public static class RedisFaults
{
    public static bool IsOutage(Exception exception) => exception is RedisException or RedisTimeoutException;
}
