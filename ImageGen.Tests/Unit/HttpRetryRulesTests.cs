using ImageGen.ServiceDefaults;

namespace ImageGen.Tests.Unit;

public sealed class HttpRetryRulesTests
{
    [Fact]
    public void A_post_without_an_idempotency_key_is_never_sent_twice()
    {
        Assert.False(HttpRetryRules.IsRetrySafe(new HttpRequestMessage(HttpMethod.Post, "http://api/api/quests")));
        Assert.False(HttpRetryRules.IsRetrySafe(new HttpRequestMessage(HttpMethod.Patch, "http://api/api/keys/1")));
    }

    [Fact]
    public void Safe_methods_and_keyed_posts_may_be_retried()
    {
        var keyed = new HttpRequestMessage(HttpMethod.Post, "http://api/api/quests") { Headers = { { HttpRetryRules.IdempotencyHeader, "k" } } };
        Assert.True(HttpRetryRules.IsRetrySafe(keyed));
        Assert.True(HttpRetryRules.IsRetrySafe(new HttpRequestMessage(HttpMethod.Get, "http://api/api/quests")));
        Assert.True(HttpRetryRules.IsRetrySafe(new HttpRequestMessage(HttpMethod.Delete, "http://api/api/images/1")));
    }
}
