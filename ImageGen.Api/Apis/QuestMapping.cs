using ImageGen.Api.Images;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;

namespace ImageGen.Api.Apis;

internal static class ApiQuestMapping
{
    /// <summary>The quest with signed image URLs.</summary>
    public static QuestDto ToDto(this Quest quest, ImageUrlSigner signer) => quest.ToDto().WithSignedUrls(signer);

    /// <summary>Signs the image URLs of a quest that arrived without them (from the store, or a worker's terminal event).</summary>
    public static QuestDto WithSignedUrls(this QuestDto quest, ImageUrlSigner signer) =>
        quest.Images.Count == 0 ? quest : quest with { Images = [.. quest.Images.Select(signer.Sign)] };
}
