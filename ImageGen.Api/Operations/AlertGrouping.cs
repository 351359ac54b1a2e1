using ImageGen.Core.Operations;

namespace ImageGen.Api.Operations;

/// <summary>
/// When an alert is worth a message. Channels hear that an alert fired, then that it resolved, once each; an alert that
/// flaps (fires, resolves, fires again) is told at most once per <see cref="Window"/>: a firing within the window of
/// the last "fired" message waits, and is told when the window has passed if it is still firing. A resolve is told only
/// when the channels last heard "fired", so it is never sent twice and never for a firing they did not hear of.
/// </summary>
internal static class AlertGrouping
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>The last message sent about a key, and when the last "fired" one went (null: none).</summary>
    public sealed record History(string? LastEvent, DateTimeOffset? LastFiredAt);

    /// <summary>The event to tell now (<see cref="AlertEvents.Fired"/> or <see cref="AlertEvents.Resolved"/>), or null.</summary>
    public static string? Decide(bool firing, History history, DateTimeOffset now)
    {
        if (firing)
        {
            var told = history.LastEvent == AlertEvents.Fired;
            var recent = history.LastFiredAt is { } at && now - at < Window;
            return told || recent ? null : AlertEvents.Fired;
        }

        return history.LastEvent == AlertEvents.Fired ? AlertEvents.Resolved : null;
    }
}
