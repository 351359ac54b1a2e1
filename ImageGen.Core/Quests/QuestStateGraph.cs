namespace ImageGen.Core.Quests;

/// <summary>
/// The quest's state graph, declared: for each state, the states a quest may enter it from. Every transition names the
/// states it expects through <see cref="From"/>, which refuses any that the graph does not allow, so a change that the
/// graph does not hold cannot be written by accident; the statements apply only from those states.
/// </summary>
/// <remarks>
/// Running to Running is a claim after a lapsed lease (the worker that held it died); Running to Queued is a hand-back
/// on shutdown or the reconciler's requeue of a lapsed lease; Queued to Failed or TimedOut is the reconciler giving up
/// on a quest no worker took. Nothing leaves a terminal state.
/// </remarks>
public static class QuestStateGraph
{
    private static readonly Dictionary<QuestStatus, QuestStatus[]> Sources = new()
    {
        [QuestStatus.Queued] = [QuestStatus.Running],
        [QuestStatus.Running] = [QuestStatus.Queued, QuestStatus.Running],
        [QuestStatus.Succeeded] = [QuestStatus.Running],
        [QuestStatus.Failed] = [QuestStatus.Queued, QuestStatus.Running],
        [QuestStatus.TimedOut] = [QuestStatus.Queued, QuestStatus.Running],
        [QuestStatus.Cancelled] = [QuestStatus.Queued, QuestStatus.Running],
    };

    /// <summary>The state every quest starts in (a submit stores it so).</summary>
    public const QuestStatus Start = QuestStatus.Queued;

    /// <summary>Every state a quest may enter <paramref name="to"/> from.</summary>
    public static IReadOnlyList<QuestStatus> SourcesOf(QuestStatus to) => Sources.TryGetValue(to, out var from) ? from : [];

    /// <summary>True when the graph has the edge from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool Allows(QuestStatus from, QuestStatus to) => SourcesOf(to).Contains(from);

    /// <summary>
    /// The states a transition into <paramref name="to"/> expects, as the names the database stores; throws when one of
    /// them is not a source of <paramref name="to"/> in the graph.
    /// </summary>
    public static string[] From(QuestStatus to, params QuestStatus[] expected)
    {
        if (expected.Length == 0)
        {
            throw new ArgumentException("A transition expects at least one state.", nameof(expected));
        }

        foreach (var from in expected)
        {
            if (!Allows(from, to))
            {
                throw new InvalidOperationException($"The quest's state graph has no transition from {from} to {to}.");
            }
        }

        return [.. expected.Select(s => s.ToString())];
    }
}
