namespace ImageGen.Tests.Graph;

/// <summary>
/// Who may use the main graph now. Tests that touch only what they own share it; tests that change what every test
/// relies on (provider fault profiles, killed workers, a flushed Redis, an alert window over all traffic) need it to
/// themselves. Sharing goes first: a lone use begins only when no shared use is running or waiting and none has ended
/// within <paramref name="quiet"/>, so the lone tests run after the side-by-side ones (a gap between two tests of a
/// class is far shorter), while the other graphs' tests and the unit tests go on beside them.
/// </summary>
public sealed class GraphGate(TimeProvider time, TimeSpan quiet)
{
    private readonly Lock _sync = new();
    private int _sharing;
    private int _waiting;
    private bool _alone;
    private long _lastShared = time.GetTimestamp();
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>The one gate of the main graph: sharing stops counting as recent three seconds after its last use.</summary>
    public static GraphGate Main { get; } = new(TimeProvider.System, TimeSpan.FromSeconds(3));

    public async ValueTask EnterSharedAsync(CancellationToken cancellationToken)
    {
        Task changed;
        lock (_sync)
        {
            if (!_alone)
            {
                Share();
                return;
            }

            _waiting++;
            changed = _changed.Task;
        }

        try
        {
            while (true)
            {
                await changed.WaitAsync(cancellationToken);
                lock (_sync)
                {
                    if (!_alone)
                    {
                        _waiting--;
                        Share();
                        return;
                    }

                    changed = _changed.Task;
                }
            }
        }
        catch (OperationCanceledException)
        {
            lock (_sync)
            {
                _waiting--;
                Signal();
            }

            throw;
        }
    }

    public void ExitShared()
    {
        lock (_sync)
        {
            _sharing--;
            _lastShared = time.GetTimestamp();
            Signal();
        }
    }

    public async ValueTask EnterAloneAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            TimeSpan wait;
            lock (_sync)
            {
                wait = Timeout.InfiniteTimeSpan;
                if (!_alone && _sharing == 0 && _waiting == 0)
                {
                    var idle = time.GetElapsedTime(_lastShared);
                    if (idle >= quiet)
                    {
                        _alone = true;
                        return;
                    }

                    wait = quiet - idle;
                }

                changed = _changed.Task;
            }

            if (wait == Timeout.InfiniteTimeSpan)
            {
                await changed.WaitAsync(cancellationToken);
            }
            else
            {
                using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(changed, Task.Delay(wait, time, timer.Token));
                await timer.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>Ends a lone use; a second call is harmless (a clean-up after a failed set-up).</summary>
    public void ExitAlone()
    {
        lock (_sync)
        {
            if (_alone)
            {
                _alone = false;
                Signal();
            }
        }
    }

    public bool IsAlone
    {
        get
        {
            lock (_sync)
            {
                return _alone;
            }
        }
    }

    /// <summary>Counts one more shared use (callers hold the lock).</summary>
    private void Share()
    {
        _sharing++;
        _lastShared = time.GetTimestamp();
    }

    /// <summary>Wakes everyone waiting, to look again (callers hold the lock).</summary>
    private void Signal()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
