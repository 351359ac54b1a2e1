using System.Collections.Concurrent;
using ImageGen.Core.Messaging;

namespace ImageGen.Benchmarks;

/// <summary>A terminal event and when it reached the client.</summary>
internal sealed record Arrival(QuestEvent Event, DateTimeOffset At);

/// <summary>A stretch of load: closed (so many clients, each submitting again when its quest ends) or open (a rate).</summary>
internal sealed record Phase(string Label, int Clients, double? Rate, TimeSpan Duration, bool Reported);

/// <summary>What one phase measured.</summary>
internal sealed class Sink
{
    public int Submitted;
    public int Ended;
    public ConcurrentBag<double> Submit { get; } = [];
    public ConcurrentBag<double> EndToEnd { get; } = [];
    public ConcurrentBag<double> Overhead { get; } = [];
    public ConcurrentBag<Stages> Stages { get; } = [];
}

/// <summary>One quest's overhead in stages (ms).</summary>
internal sealed record Stages(double ToWorker, double InWorker, double ToClient);
