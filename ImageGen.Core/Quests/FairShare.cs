namespace ImageGen.Core.Quests;

/// <summary>
/// The fair-share rule: a user has at most <see cref="DefaultMaxRunningPerUser"/> quests running at once (setting
/// <c>ImageGen:Worker:MaxRunningPerUser</c>), fleet-wide. A worker that takes a quest whose owner is at that limit puts
/// it back to wait; when one of the owner's runs ends, their oldest waiting quest is sent again, behind what was sent
/// meanwhile. The workers claim by it and the API counts a waiting quest's place in the queue by it.
/// </summary>
public static class FairShare
{
    public const int DefaultMaxRunningPerUser = 4;
}
