using ImageGen.Api.Images;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;
using ImageGen.Data.Queue;

namespace ImageGen.Api.Apis;

internal static class ApiQuestMapping
{
    /// <summary>The quest with signed image URLs.</summary>
    public static QuestDto ToDto(this Quest quest, ImageUrlSigner signer) => quest.ToDto().WithSignedUrls(signer);

    /// <summary>The quest with, while it runs, its latest preview frame (one Redis read; none once it has ended).</summary>
    public static async Task<QuestDto> ToDtoWithPreviewAsync(this Quest quest, ImageUrlSigner signer, QuestPreviews previews) =>
        quest.Status.IsTerminal()
            ? quest.ToDto(signer)
            : quest.ToDto(signer) with { Preview = await previews.LatestAsync(quest.Id) };

    /// <summary>Signs the image URLs of a quest that arrived without them (from the store, or a worker's terminal event).</summary>
    public static QuestDto WithSignedUrls(this QuestDto quest, ImageUrlSigner signer) =>
        quest.Images.Count == 0 ? quest : quest with { Images = [.. quest.Images.Select(signer.Sign)] };
}
