using ImageGen.Core.Providers;
using ImageGen.Worker.Providers;
using Microsoft.Extensions.Time.Testing;

namespace ImageGen.Tests.Unit;

public sealed class CircuitBreakerTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void The_fleets_count_opens_it_even_when_this_worker_saw_only_one_failure()
    {
        var breaker = new CircuitBreaker(5, TimeSpan.FromSeconds(60), _time);
        // Four failures seen by other workers, the fifth here: open, not after five more here.
        breaker.RecordFailure(consecutiveFailures: 5);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.TryAcquire());
    }

    [Fact]
    public void A_success_on_another_worker_ends_the_run_so_this_workers_earlier_failure_no_longer_counts()
    {
        var breaker = new CircuitBreaker(3, TimeSpan.FromSeconds(60), _time);
        breaker.RecordFailure(consecutiveFailures: 1);
        // Another worker succeeded (the fleet's count went back to 0); then a new run of failures starts here.
        breaker.RecordFailure(1);
        breaker.RecordFailure(2);
        Assert.Equal(CircuitState.Closed, breaker.State);

        breaker.RecordFailure(3);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Without_the_fleets_count_this_workers_own_run_opens_it()
    {
        var breaker = new CircuitBreaker(3, TimeSpan.FromSeconds(60), _time);
        breaker.RecordFailure(null);
        breaker.RecordFailure(null);
        Assert.Equal(CircuitState.Closed, breaker.State);

        breaker.RecordFailure(null);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void It_stays_open_for_the_break_then_lets_one_probe_through()
    {
        var breaker = new CircuitBreaker(5, TimeSpan.FromSeconds(60), _time);
        for (var n = 1; n <= 4; n++)
        {
            breaker.RecordFailure(n);
            Assert.Equal(CircuitState.Closed, breaker.State);
        }

        breaker.RecordFailure(5);
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(breaker.TryAcquire());

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.TryAcquire());
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.False(breaker.TryAcquire());

        // The probe failed: open again for a whole break.
        breaker.RecordFailure(6);
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.True(breaker.TryAcquire());
        breaker.RecordSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire());
    }

    [Fact]
    public void Another_workers_opening_reaches_this_one_from_when_it_opened_there()
    {
        var breaker = new CircuitBreaker(5, TimeSpan.FromSeconds(60), _time);
        var changes = new List<(CircuitState State, bool Local)>();
        breaker.Changed += (state, local) => changes.Add((state, local));

        breaker.Trip(_time.GetUtcNow() - TimeSpan.FromSeconds(50));
        Assert.False(breaker.TryAcquire());
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(breaker.TryAcquire());
        Assert.Equal([(CircuitState.Open, false), (CircuitState.HalfOpen, true)], changes);
    }

    [Fact]
    public void A_probe_that_got_through_on_another_worker_closes_it_here_too()
    {
        var breaker = new CircuitBreaker(5, TimeSpan.FromSeconds(60), _time);
        var changes = new List<(CircuitState State, bool Local)>();
        breaker.Changed += (state, local) => changes.Add((state, local));
        breaker.RecordFailure(5);

        // Without this, the next quest to land here would fail fast (or, after the break, spend its probe) on a provider
        // that is already back.
        breaker.Close();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire());
        Assert.Equal([(CircuitState.Open, true), (CircuitState.Closed, false)], changes);
    }
}
