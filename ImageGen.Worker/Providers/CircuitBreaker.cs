using ImageGen.Core.Providers;

namespace ImageGen.Worker.Providers;

/// <summary>
/// Opens after <c>threshold</c> consecutive failures, counted across every worker (the caller passes the fleet's count,
/// kept in Redis, so N workers do not each spend the threshold); while open, calls fail fast. After the break, one
/// probe goes through: success closes the circuit, failure opens it again.
/// </summary>
internal sealed class CircuitBreaker(int threshold, TimeSpan breakDuration, TimeProvider time)
{
    private readonly Lock _gate = new();
    private int _failures;
    private DateTimeOffset _openedAt;
    private bool _probing;

    public CircuitState State { get; private set; } = CircuitState.Closed;

    /// <summary>Raised with the new state whenever it changes; the flag is true when this worker's own calls caused it.</summary>
    public event Action<CircuitState, bool>? Changed;

    private bool _tripping;

    public bool TryAcquire()
    {
        lock (_gate)
        {
            switch (State)
            {
                case CircuitState.Closed:
                    return true;
                case CircuitState.Open when time.GetUtcNow() - _openedAt >= breakDuration:
                    Move(CircuitState.HalfOpen);
                    _probing = true;
                    return true;
                case CircuitState.HalfOpen when !_probing:
                    _probing = true;
                    return true;
                default:
                    return false;
            }
        }
    }

    public void RecordSuccess()
    {
        lock (_gate)
        {
            _failures = 0;
            _probing = false;
            Move(CircuitState.Closed);
        }
    }

    /// <param name="consecutiveFailures">
    /// The provider's failures in a row across the fleet, this one included; null when the fleet's count cannot be read,
    /// and then this worker's own run counts. The fleet's count wins when known: a success on another worker ended the
    /// run there, and this worker's earlier failures are not part of the new one.
    /// </param>
    public void RecordFailure(long? consecutiveFailures)
    {
        lock (_gate)
        {
            _failures = (int)Math.Min(int.MaxValue, consecutiveFailures ?? _failures + 1L);
            _probing = false;
            if (State == CircuitState.HalfOpen || _failures >= threshold)
            {
                _openedAt = time.GetUtcNow();
                Move(CircuitState.Open);
            }
        }
    }

    /// <summary>Opens the circuit because another worker saw the provider fail (the shared view), from when it opened there.</summary>
    public void Trip(DateTimeOffset openedAt)
    {
        lock (_gate)
        {
            if (State == CircuitState.Closed || openedAt > _openedAt)
            {
                _openedAt = openedAt;
                _probing = false;
                _tripping = true;
                Move(CircuitState.Open);
                _tripping = false;
            }
        }
    }

    /// <summary>Closes the circuit because another worker's probe got through (the shared view).</summary>
    public void Close()
    {
        lock (_gate)
        {
            _failures = 0;
            _probing = false;
            _tripping = true;
            Move(CircuitState.Closed);
            _tripping = false;
        }
    }

    /// <summary>A call that ended without telling anything about the provider's health (e.g. cancelled) frees the probe.</summary>
    public void RecordNeutral()
    {
        lock (_gate)
        {
            _probing = false;
        }
    }

    private void Move(CircuitState next)
    {
        if (State != next)
        {
            State = next;
            Changed?.Invoke(next, !_tripping);
        }
    }
}
