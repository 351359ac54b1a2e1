using ImageGen.Core.Catalog;
using ImageGen.Core.Messaging;
using ImageGen.Core.Quests;

namespace ImageGen.Web.Components.Pages;

/// <summary>The gallery's follow-ups: each followed as every page follows a quest, landing at the top when it ends.</summary>
public partial class Gallery
{
    /// <summary>A describe's answer, shown in the full view.</summary>
    private List<string>? suggestions;

    /// <summary>The model that describes images (Midjourney), when the catalog has one that is available.</summary>
    private ModelDescriptor? DescribingModel => Catalog.All.FirstOrDefault(m => m.Available && m.Actions?.Contains(MidjourneyActions.Describe) == true);

    /// <summary>The model that blends images, likewise.</summary>
    private ModelDescriptor? BlendingModel => Catalog.All.FirstOrDefault(m => m.Available && m.Actions?.Contains(MidjourneyActions.Blend) == true);

    /// <summary>Blends the picked images (2 to 5) into a new grid, followed like any follow-up.</summary>
    private async Task BlendPickedAsync(ModelDescriptor blender)
    {
        var result = await Api.CreateQuestAsync(new CreateQuestRequest { Model = blender.Id, Images = [.. picked], Action = MidjourneyActions.Blend }, disposed.Token);
        if (result.Value is not { } quest)
        {
            toolsNote = result.Problem!.Errors is [var first, ..] ? first.Message : result.Problem.Detail;
            return;
        }

        toolsNote = $"Blend started ({quest.Cost} credits): it appears here when it is done.";
        await FollowAsync(quest.Id, $"Blend started ({quest.Cost} credits)");
    }

    /// <summary>Follow-ups being followed, by quest id, with what was said when each started: each lands at the top of the gallery when it ends.</summary>
    private readonly Dictionary<Guid, string> followed = [];

    /// <summary>Follows a follow-up as every page does (hub events, or polling while they are down) until it ends.</summary>
    private async Task FollowAsync(Guid questId, string started)
    {
        if (followed.Count == 0)
        {
            Events.SnapshotReceived += OnSnapshotAsync;
            Events.EventReceived += OnEventAsync;
        }

        followed[questId] = started;
        if (await Events.SubscribeAsync(questId, disposed.Token) is { } snapshot)
        {
            await OnSnapshotAsync(snapshot);
        }

        if (!Events.IsConnected)
        {
            followUpNote += " " + Events.NoteFor(Events.State);
        }
    }

    /// <summary>An event says a followed quest ended: its state (with its images) is asked once.</summary>
    private async Task OnEventAsync(QuestEvent evt)
    {
        if (followed.ContainsKey(evt.QuestId) && evt.Status.IsTerminal() && (await Api.GetQuestAsync(evt.QuestId, disposed.Token)).Value is { } quest)
        {
            await OnSnapshotAsync(quest);
        }
    }

    private Task OnSnapshotAsync(QuestDto quest) => InvokeAsync(async () =>
    {
        if (!quest.Status.IsTerminal() || !followed.Remove(quest.Id, out var started))
        {
            return;
        }

        Events.Forget(quest.Id);
        if (quest is { Status: QuestStatus.Succeeded, Descriptions: { Count: > 0 } described })
        {
            suggestions = [.. described];
            followUpNote = $"{started} and is done: {described.Count} prompts suggested.";
        }
        else if (quest is { Status: QuestStatus.Succeeded, Images: [var first, ..] } && (await Api.GetImageAsync(first.Id, disposed.Token)).Value is { } image)
        {
            images.Insert(0, image);
            followUpNote = $"{started} and is done: it is first in the gallery.";
        }
        else
        {
            followUpNote = $"{started} and ended: {quest.Error?.Message ?? quest.Status.ToString()}";
        }

        StateHasChanged();
    });
}
