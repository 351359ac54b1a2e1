using System.Collections.Concurrent;
using System.Globalization;
using ImageGen.Data.Queue;
using StackExchange.Redis;

namespace ImageGen.Worker.Providers;

/// <summary>
/// A provider account's jobs in flight, counted across every worker: one slot per job, taken before the call and given
/// back when the job ends at the provider (for a job the provider runs on after our cancel, later than the call:
/// <see cref="ProviderJobLeftRunning"/>). The slots are leases in a Redis sorted set (member: the holder, score: when
/// its lease ends); a worker renews its own every third of the lease, so a worker that dies gives its slots back when
/// their leases end. Taking one is one script (drop ended leases, count, add), so parallel takers never pass the limit.
/// A worker also never holds more than the limit itself, which is all that holds while Redis cannot be reached.
/// </summary>
internal sealed partial class AccountSlots : IDisposable
{
    private const string TakeScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
          redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
          redis.call('PEXPIRE', KEYS[1], ARGV[5])
          return 1
        end
        return 0
        """;

    private static readonly string Holder = $"{Environment.MachineName}:{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";

    private readonly SemaphoreSlim _local;
    private readonly int _limit;
    private readonly RedisKey _key;
    private readonly RedisChannel _released;
    private readonly IConnectionMultiplexer _redis;
    private readonly TimeSpan _lease;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, byte> _held = new();
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AccountSlots(string account, int limit, IConnectionMultiplexer redis, TimeSpan lease, TimeProvider time, ILogger logger)
    {
        _local = new SemaphoreSlim(limit, limit);
        _limit = limit;
        _key = $"providers:slots:{account}";
        _released = RedisChannel.Literal($"providers:slots:{account}:released");
        _redis = redis;
        _lease = lease;
        _time = time;
        _logger = logger;
        // Another worker's release wakes this one's waiters at once; they also look again on their own every so often.
        // Without Redis at start, waiters look again on their own (at most every second).
        _ = _redis.GetSubscriber().SubscribeAsync(_released, (_, _) => Interlocked.Exchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult())
            .ContinueWith(t => LogFleetUnreachable(_logger, _key.ToString(), t.Exception!.GetBaseException().Message), CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        _ = RenewAsync(_stop.Token);
    }

    /// <summary>Slots this worker could take without waiting on itself (another worker may still hold the rest).</summary>
    public int Free => _local.CurrentCount;

    /// <summary>Slots held by every worker now, as Redis counts them (leases not yet ended).</summary>
    public async Task<long> HeldAsync() => await _redis.GetDatabase().SortedSetLengthAsync(_key, _time.GetUtcNow().ToUnixTimeMilliseconds(), double.PositiveInfinity);

    /// <summary>Waits for a slot; <paramref name="waiting"/> runs once if it has to wait for another worker's.</summary>
    public async Task<Slot> TakeAsync(Func<Task> waiting, CancellationToken cancellationToken)
    {
        if (_local.CurrentCount == 0)
        {
            await waiting();
            waiting = () => Task.CompletedTask;
        }

        await _local.WaitAsync(cancellationToken);
        var member = $"{Holder}:{Guid.NewGuid():N}";
        try
        {
            for (var look = 0; ; look++)
            {
                var wake = _wake.Task;
                if (await TryTakeAsync(member))
                {
                    _held[member] = 0;
                    return new Slot(member);
                }

                if (look == 0)
                {
                    await waiting();
                }

                // Until another worker releases one, or a while passes (its lease may have ended without a word).
                await Task.WhenAny(wake, Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * (look + 1))), _time, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (Exception e) when (RedisFaults.IsOutage(e))
        {
            // Redis away: this worker's own limit is all that holds until it is back.
            LogFleetUnreachable(_logger, _key.ToString(), e.Message);
            return new Slot(null);
        }
        catch
        {
            _local.Release();
            throw;
        }
    }

    /// <summary>The call ended, and its job with it.</summary>
    public void Return(Slot slot)
    {
        _local.Release();
        if (slot.Member is { } member && _held.TryRemove(member, out _))
        {
            _ = ReleaseAsync(member);
        }
    }

    /// <summary>The call ended but the provider runs its job on: the slot comes back when <paramref name="jobEnded"/> completes.</summary>
    public void ReturnWhen(Slot slot, Task jobEnded, Action returned) =>
        _ = jobEnded.ContinueWith(_ =>
        {
            Return(slot);
            returned();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private async Task<bool> TryTakeAsync(string member)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var until = now + (long)_lease.TotalMilliseconds;
        var taken = await _redis.GetDatabase().ScriptEvaluateAsync(TakeScript, [_key],
            [now, _limit, until, member, (long)(_lease.TotalMilliseconds * 2)]);
        return (int)taken == 1;
    }

    private async Task ReleaseAsync(string member)
    {
        try
        {
            var db = _redis.GetDatabase();
            await db.SortedSetRemoveAsync(_key, member);
            await _redis.GetSubscriber().PublishAsync(_released, "1");
        }
        catch (Exception e) when (RedisFaults.IsOutage(e))
        {
            // Its lease ends on its own.
            LogFleetUnreachable(_logger, _key.ToString(), e.Message);
        }
    }

    /// <summary>Every third of the lease, this worker's leases are pushed on: held slots stay held while it lives.</summary>
    private async Task RenewAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_lease / 3, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (_held.IsEmpty)
            {
                continue;
            }

            try
            {
                var until = _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)_lease.TotalMilliseconds;
                var db = _redis.GetDatabase();
                await db.SortedSetAddAsync(_key, [.. _held.Keys.Select(m => new SortedSetEntry(m, until))], SortedSetWhen.Exists);
                await db.KeyExpireAsync(_key, _lease * 2);
            }
            catch (Exception e) when (RedisFaults.IsOutage(e))
            {
                LogFleetUnreachable(_logger, _key.ToString(), e.Message);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        _local.Dispose();
    }

    /// <summary>A slot held: its lease in Redis, or none when Redis could not be reached.</summary>
    public readonly record struct Slot(string? Member);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider slots {Key} cannot be counted across workers ({Reason}): this worker's own limit holds until Redis answers")]
    private static partial void LogFleetUnreachable(ILogger logger, string key, string reason);
}
