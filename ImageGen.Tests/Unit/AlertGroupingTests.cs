using ImageGen.Api.Operations;
using ImageGen.Core.Operations;
using Microsoft.Extensions.Time.Testing;

namespace ImageGen.Tests.Unit;

/// <summary>What operators are told while an alert fires, flaps and resolves, on a fake clock evaluated every 30 s.</summary>
public sealed class AlertGroupingTests
{
    /// <summary>Runs the rule over a timeline of (minute, firing) states, as the evaluator does every 30 s; returns what was sent and when.</summary>
    private static List<(double Minute, string Event)> Run(params (double FromMinute, bool Firing)[] timeline)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
        var start = clock.GetUtcNow();
        var sent = new List<(double, string)>();
        var history = new AlertGrouping.History(null, null);
        var end = timeline[^1].FromMinute + 30;
        for (var minute = 0.0; minute <= end; minute += 0.5)
        {
            var firing = timeline.Last(t => t.FromMinute <= minute).Firing;
            if (AlertGrouping.Decide(firing, history, clock.GetUtcNow()) is { } evt)
            {
                sent.Add((minute, evt));
                history = new AlertGrouping.History(evt, evt == AlertEvents.Fired ? clock.GetUtcNow() : history.LastFiredAt);
            }

            clock.Advance(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(start.AddMinutes(end + 0.5), clock.GetUtcNow());
        return sent;
    }

    [Fact]
    public void An_alert_that_fires_for_an_hour_is_told_once_and_its_resolve_once()
    {
        Assert.Equal([(1.0, AlertEvents.Fired), (61.0, AlertEvents.Resolved)], Run((0, false), (1, true), (61, false)));
    }

    [Fact]
    public void A_flapping_alert_is_told_at_most_once_per_fifteen_minutes_and_each_resolve_once()
    {
        // Fires and resolves every 2 minutes for 40 minutes, then stays quiet.
        var flaps = Enumerable.Range(0, 20).Select(i => (FromMinute: 1.0 + i * 2, Firing: i % 2 == 0)).Prepend((0, false)).Append((41, false)).ToArray();
        var sent = Run(flaps);

        var fired = sent.Where(s => s.Event == AlertEvents.Fired).Select(s => s.Minute).ToList();
        Assert.Equal([1.0, 17.0, 33.0], fired);
        Assert.All(fired.Zip(fired.Skip(1)), pair => Assert.True(pair.Second - pair.First >= 15));
        // Every "fired" is followed by exactly one "resolved" before the next message.
        Assert.Equal([AlertEvents.Fired, AlertEvents.Resolved, AlertEvents.Fired, AlertEvents.Resolved, AlertEvents.Fired, AlertEvents.Resolved], sent.Select(s => s.Event));
    }

    [Fact]
    public void A_firing_held_back_by_the_window_is_told_when_the_window_passes_if_still_firing()
    {
        // Fires, resolves a minute later, fires again at minute 4 and stays: told again at minute 16, not before.
        var sent = Run((0, false), (1, true), (2, false), (4, true), (30, false));
        Assert.Equal([(1.0, AlertEvents.Fired), (2.0, AlertEvents.Resolved), (16.0, AlertEvents.Fired), (30.0, AlertEvents.Resolved)], sent);
    }

    [Fact]
    public void A_resolve_is_never_told_for_a_firing_nobody_heard_of()
    {
        // Fired and resolved within the window of the last "fired": nothing more is said.
        var sent = Run((0, false), (1, true), (2, false), (5, true), (6, false));
        Assert.Equal([(1.0, AlertEvents.Fired), (2.0, AlertEvents.Resolved)], sent);
    }
}
