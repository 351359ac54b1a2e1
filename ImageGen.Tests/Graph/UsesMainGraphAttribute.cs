using System.Reflection;
using Xunit.v3;

namespace ImageGen.Tests.Graph;

/// <summary>
/// Holds the main graph's <see cref="GraphGate"/>, shared, around every test of a class that uses the main graph. The
/// classes of the <see cref="ExclusiveGraphCollection"/> take it alone themselves, around their set-up and clean-up too
/// (which reset fault profiles, and run outside this hook); this checks they did. Tests of other graphs and of no
/// graph pass.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class UsesMainGraphAttribute : BeforeAfterTestAttribute
{
    static UsesMainGraphAttribute()
    {
        // The runner's hook is synchronous: a test waiting for its turn holds a pool thread. Enough threads up front
        // that the waiting ones (at most the runner's parallel tests) never starve the tests that run.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), io);
    }

    public override void Before(MethodInfo methodUnderTest, IXunitTest test)
    {
        switch (UseOf(test))
        {
            case Use.Alone when !GraphGate.Main.IsAlone:
                throw new InvalidOperationException(
                    $"{test.TestMethod.TestClass.Class.Name} is in {ExclusiveGraphCollection.Name} but does not take the graph alone: call graph.TakeAloneAsync in InitializeAsync (before its set-up) and graph.ReleaseAlone at the end of DisposeAsync.");
            case Use.Shared:
                // The runner's hook is synchronous: a test waiting for its turn holds a pool thread (see above).
                GraphGate.Main.EnterSharedAsync(TestContext.Current.CancellationToken).AsTask().GetAwaiter().GetResult();
                break;
        }
    }

    public override void After(MethodInfo methodUnderTest, IXunitTest test)
    {
        if (UseOf(test) == Use.Shared)
        {
            GraphGate.Main.ExitShared();
        }
    }

    private enum Use { None, Shared, Alone }

    private static Use UseOf(IXunitTest test)
    {
        var type = test.TestMethod.TestClass.Class;
        if (test.TestCase.TestCollection.TestCollectionDisplayName == ExclusiveGraphCollection.Name)
        {
            return Use.Alone;
        }

        return type.GetConstructors().Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(GraphFixture))) ? Use.Shared : Use.None;
    }
}
