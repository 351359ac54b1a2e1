using System.Runtime.CompilerServices;
using ImageGen.Core.Quests;
using ImageGen.Data.Quests;

namespace ImageGen.Tests.Unit;

/// <summary>
/// The quest's declared state graph: nothing leaves a terminal state, every state can be reached from the start, every
/// state that is not terminal can still end, and a transition the graph does not hold is refused when it is named.
/// </summary>
public sealed class QuestStateGraphTests
{
    private static readonly QuestStatus[] States = Enum.GetValues<QuestStatus>();

    [Fact]
    public void Nothing_leaves_a_terminal_state()
    {
        foreach (var from in States.Where(s => s.IsTerminal()))
        {
            Assert.All(States, to => Assert.False(QuestStateGraph.Allows(from, to), $"{from} -> {to}"));
        }
    }

    [Fact]
    public void Every_state_is_reached_from_the_start_and_every_open_state_can_end()
    {
        Assert.Equal(States.Order(), Reachable(QuestStateGraph.Start).Order());
        foreach (var open in States.Where(s => !s.IsTerminal()))
        {
            Assert.Contains(Reachable(open), s => s.IsTerminal());
        }
    }

    [Fact]
    public void The_graph_holds_the_edges_the_workers_and_owners_need_and_no_more()
    {
        var edges = States.SelectMany(from => States.Where(to => QuestStateGraph.Allows(from, to)).Select(to => $"{from}->{to}")).Order();
        Assert.Equal(
        [
            "Queued->Cancelled", "Queued->Failed", "Queued->Running", "Queued->TimedOut",
            "Running->Cancelled", "Running->Failed", "Running->Queued", "Running->Running", "Running->Succeeded", "Running->TimedOut",
        ], edges);
    }

    [Theory]
    [InlineData(QuestStatus.Succeeded, QuestStatus.Running)]
    [InlineData(QuestStatus.Cancelled, QuestStatus.Succeeded)]
    [InlineData(QuestStatus.Queued, QuestStatus.Succeeded)]
    [InlineData(QuestStatus.Failed, QuestStatus.Queued)]
    [InlineData(QuestStatus.TimedOut, QuestStatus.Cancelled)]
    public void A_transition_outside_the_graph_is_refused_when_it_is_named(QuestStatus from, QuestStatus to)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => QuestStateGraph.From(to, from));
        Assert.Contains($"from {from} to {to}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_transition_the_writer_names_is_in_the_graph()
    {
        // The transitions check the states they expect against the graph when their type is first used: a named edge
        // the graph does not hold makes this throw.
        RuntimeHelpers.RunClassConstructor(typeof(QuestTransitions).TypeHandle);
        Assert.Equal(["Running"], QuestStateGraph.From(QuestStatus.Succeeded, QuestStatus.Running));
    }

    private static HashSet<QuestStatus> Reachable(QuestStatus start)
    {
        var seen = new HashSet<QuestStatus> { start };
        var next = new Queue<QuestStatus>([start]);
        while (next.TryDequeue(out var from))
        {
            foreach (var to in States.Where(to => QuestStateGraph.Allows(from, to) && seen.Add(to)))
            {
                next.Enqueue(to);
            }
        }

        return seen;
    }
}
