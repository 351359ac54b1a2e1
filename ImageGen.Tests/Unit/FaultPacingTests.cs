using System.Diagnostics;
using ImageGen.ProviderSimulator;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The simulator's jobs follow its fault profile while they run: a job started under a minute-long slow profile must
/// not hold one of the account's active-task slots (BFL allows 24) for that minute once the fault is lifted, or every
/// test after it on the same simulator is refused with 429.
/// </summary>
public sealed class FaultPacingTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_step_started_slow_finishes_at_the_normal_pace_once_the_fault_is_lifted()
    {
        var faults = new FaultProfiles();
        faults.Set(FaultProfiles.Bfl, new FaultSettings { Profile = FaultProfile.Slow, LatencyMs = 60_000 });
        var started = Stopwatch.GetTimestamp();
        var step = faults.PaceAsync(FaultProfiles.Bfl, TimeSpan.FromMilliseconds(40), 8, Token);

        await Task.Delay(200, Token);
        Assert.False(step.IsCompleted, "a 7.5 s step ended within 200 ms while the provider was slow");

        faults.Set(FaultProfiles.Bfl, new FaultSettings());
        await step.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_step_started_healthy_slows_down_when_the_fault_is_set_and_another_provider_is_not_affected()
    {
        var faults = new FaultProfiles();
        var bfl = faults.PaceAsync(FaultProfiles.Bfl, TimeSpan.FromMilliseconds(500), 8, Token);
        var openAi = faults.PaceAsync(FaultProfiles.OpenAI, TimeSpan.FromMilliseconds(500), 1, Token);
        faults.Set(FaultProfiles.Bfl, new FaultSettings { Profile = FaultProfile.Slow, LatencyMs = 60_000 });

        await openAi.WaitAsync(TimeSpan.FromSeconds(5), Token);
        await Task.Delay(1_000, Token);
        Assert.False(bfl.IsCompleted, "the step kept its 500 ms pace after the provider turned slow");
    }

    [Fact]
    public async Task Cancelling_the_caller_ends_the_wait()
    {
        var faults = new FaultProfiles();
        faults.Set(FaultProfiles.OpenAI, new FaultSettings { Profile = FaultProfile.Slow, LatencyMs = 60_000 });
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var request = faults.PaceAsync(FaultProfiles.OpenAI, TimeSpan.Zero, 1, caller.Token);

        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.WaitAsync(TimeSpan.FromSeconds(5), Token));
    }

    [Theory]
    [InlineData(-5_000)]
    [InlineData(0)]
    public async Task A_slow_profile_with_a_negative_or_zero_latency_waits_nothing_and_throws_nothing(int latencyMs)
    {
        // The admin route takes any number: a negative delay used to throw inside the OpenAI answer (a 500).
        var faults = new FaultProfiles();
        faults.Set(FaultProfiles.OpenAI, new FaultSettings { Profile = FaultProfile.Slow, LatencyMs = latencyMs });

        await faults.PaceAsync(FaultProfiles.OpenAI, TimeSpan.Zero, 1, Token).WaitAsync(TimeSpan.FromSeconds(5), Token);
    }
}
