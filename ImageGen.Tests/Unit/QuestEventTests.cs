using System.Text.Json;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;

namespace ImageGen.Tests.Unit;

public sealed class QuestEventTests
{
    [Fact]
    public void An_event_survives_the_wire_unchanged()
    {
        var evt = new QuestEvent
        {
            QuestId = Guid.NewGuid(),
            UserId = Guid.NewGuid(),
            Sequence = (1L << 20) + 3,
            Status = QuestStatus.Failed,
            Step = 3,
            TotalSteps = 8,
            Progress = 0.375,
            StatusText = "Now painting... 3/8",
            Error = new QuestErrorDto(ErrorCodes.RenderFailed, "The renderer could not draw this image."),
            PublishedAt = new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero),
        };

        Assert.Equal(evt, QuestEvent.FromJson(evt.ToJson()));
    }

    [Fact]
    public void The_wire_form_uses_camel_case_names_and_status_names()
    {
        var json = new QuestEvent { QuestId = Guid.Empty, UserId = Guid.Empty, Sequence = 1, Status = QuestStatus.Running, PublishedAt = DateTimeOffset.UnixEpoch }.ToJson();
        using var document = JsonDocument.Parse(json);

        Assert.Equal("Running", document.RootElement.GetProperty("status").GetString());
        Assert.True(document.RootElement.TryGetProperty("questId", out _));
        Assert.True(document.RootElement.TryGetProperty("publishedAt", out _));
    }

    [Theory]
    [InlineData(QuestStatus.Queued, false)]
    [InlineData(QuestStatus.Running, false)]
    [InlineData(QuestStatus.Succeeded, true)]
    [InlineData(QuestStatus.Failed, true)]
    [InlineData(QuestStatus.Cancelled, true)]
    [InlineData(QuestStatus.TimedOut, true)]
    public void Only_final_states_are_terminal(QuestStatus status, bool terminal) => Assert.Equal(terminal, status.IsTerminal());
}
