namespace ImageGen.Tests.Graph;

/// <summary>One account shared by the tests of a class, for tests that only need someone signed in.</summary>
public sealed class SharedUser(GraphFixture graph) : IAsyncLifetime
{
    public TestUser User { get; private set; } = null!;

    public async ValueTask InitializeAsync() => User = await graph.CreateUserAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync()
    {
        User?.Dispose();
        return ValueTask.CompletedTask;
    }
}
