using ImageGen.Tests.Browser;

// The main graph is started once, before the tests (unless the run's filter selects none of its tests), and shared:
// test classes run side by side against it (each class is its own collection), since each creates its own users and
// touches only what they own.
[assembly: AssemblyFixture(typeof(ImageGen.Tests.Graph.GraphFixture))]
[assembly: ImageGen.Tests.Graph.UsesMainGraph]

namespace ImageGen.Tests.Graph;

/// <summary>
/// Tests that change what every other test of the main graph relies on (provider fault profiles that open a
/// fleet-wide circuit, killed or crashing workers, a flushed Redis, an alert's window over all traffic). They run one
/// at a time with the main graph to themselves (<see cref="GraphGate"/>), after its side-by-side classes, while the
/// other graphs' tests and the tests of no graph go on beside them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ExclusiveGraphCollection
{
    public const string Name = "graph-exclusive";
}

/// <summary>The browser tests: one Chromium for all of them, one page at a time, beside the other tests.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

/// <summary>
/// A second line of browser tests (the gallery's and the operator pages'), with a Chromium of its own, beside the
/// first: each line runs one page at a time, and most of a browser test is waiting on the graph, so two lines finish
/// the main graph's shared tests (and let its exclusive ones begin) sooner.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SecondBrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser-b";
}
