using ImageGen.Core.Messaging;
using Microsoft.AspNetCore.SignalR.Client;

namespace ImageGen.Tests.Graph;

/// <summary>Collects quest events from the hub in arrival order.</summary>
public sealed class EventRecorder
{
    private readonly List<QuestEvent> _events = [];
    private readonly TaskCompletionSource<QuestEvent> _terminal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EventRecorder(HubConnection connection) =>
        connection.On<QuestEvent>("questEvent", evt =>
        {
            lock (_events)
            {
                _events.Add(evt);
            }

            if (ImageGen.Core.Quests.QuestStatusExtensions.IsTerminal(evt.Status))
            {
                _terminal.TrySetResult(evt);
            }
        });

    public IReadOnlyList<QuestEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public Task<QuestEvent> Terminal(TimeSpan timeout, CancellationToken cancellationToken) => _terminal.Task.WaitAsync(timeout, cancellationToken);
}
