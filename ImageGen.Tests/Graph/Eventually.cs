namespace ImageGen.Tests.Graph;

/// <summary>Waits for something a graph does in its own time (a worker, a reconciler), bounded.</summary>
public static class Eventually
{
    /// <summary>
    /// Asks <paramref name="condition"/> every 100 ms until it answers true; fails the test when it has not within
    /// <paramref name="limit"/> (30 s unless told).
    /// </summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? limit = null)
    {
        var bound = limit ?? TimeSpan.FromSeconds(30);
        var token = TestContext.Current.CancellationToken;
        var until = DateTimeOffset.UtcNow + bound;
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < until, $"not reached within {bound.TotalSeconds:0} s");
            await Task.Delay(100, token);
        }
    }
}
