using ImageGen.Api.Services;
using ImageGen.Core.Catalog;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;
using Microsoft.Extensions.Time.Testing;

namespace ImageGen.Tests.Unit;

/// <summary>The rate a waiting quest's start is estimated by: recent endings, per provider.</summary>
public sealed class QuestThroughputTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_busy_spell_after_a_quiet_one_is_counted_at_its_own_rate_per_provider()
    {
        var throughput = new QuestThroughput(_time, ModelCatalog.Default);
        Assert.Null(throughput.PerSecond());

        // One ending long ago, then quiet, then two local endings a second for 10 s and one FLUX ending.
        throughput.Observe(Ended("local-sketch"));
        _time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 20; i++)
        {
            throughput.Observe(Ended("local-sketch"));
            _time.Advance(TimeSpan.FromMilliseconds(500));
        }

        throughput.Observe(Ended(ModelCatalog.FluxPro11));

        Assert.Equal(2.0, throughput.PerSecond("local")!.Value, precision: 1);
        Assert.Equal(0.2, throughput.PerSecond("blackforestlabs")!.Value, precision: 2);
        Assert.Equal(2.1, throughput.PerSecond()!.Value, precision: 1);
        Assert.Null(throughput.PerSecond("openai"));

        // A quarter of a minute without an ending: nothing recent to go by.
        _time.Advance(TimeSpan.FromSeconds(16));
        Assert.Null(throughput.PerSecond("local"));
    }

    private QuestEvent Ended(string model) => new()
    {
        QuestId = Guid.CreateVersion7(),
        UserId = Guid.CreateVersion7(),
        Sequence = 1,
        Status = QuestStatus.Succeeded,
        PublishedAt = _time.GetUtcNow(),
        Quest = new QuestDto
        {
            Id = Guid.CreateVersion7(),
            Prompt = "a lighthouse",
            Model = model,
            Parameters = new QuestParameters(),
            Cost = 1,
            Status = QuestStatus.Succeeded,
            Progress = 1,
            CreatedAt = _time.GetUtcNow(),
            Images = [],
        },
    };
}
