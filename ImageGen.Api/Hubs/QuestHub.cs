using ImageGen.Api.Apis;
using ImageGen.Core.Quests;
using ImageGen.Data;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Hubs;

/// <summary>
/// Live quest events. A client subscribes to a quest and gets its current state as the answer, then every
/// <c>questEvent</c> after it, so a late or reconnecting client never shows a stale progress bar.
/// </summary>
internal sealed class QuestHub(ImageGenDbContext db) : Hub
{
    public const string Path = "/hubs/quests";
    public const string EventMethod = "questEvent";

    public static string GroupFor(Guid questId) => "quest:" + questId.ToString("N");

    public async Task<QuestDto?> Subscribe(Guid questId)
    {
        // Join first, then read: an event published in between is delivered, never lost.
        await Groups.AddToGroupAsync(Context.ConnectionId, GroupFor(questId), Context.ConnectionAborted).ConfigureAwait(false);
        var quest = await db.Quests.AsNoTracking().Include(q => q.Images)
            .FirstOrDefaultAsync(q => q.Id == questId, Context.ConnectionAborted).ConfigureAwait(false);
        if (quest is null)
        {
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupFor(questId)).ConfigureAwait(false);
            throw new HubException($"{ErrorCodes.QuestNotFound}: there is no quest '{questId}'.");
        }

        return quest.ToDto();
    }

    public Task Unsubscribe(Guid questId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupFor(questId));
}
