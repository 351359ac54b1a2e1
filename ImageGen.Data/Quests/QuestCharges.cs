using ImageGen.Data.Entities;

namespace ImageGen.Data.Quests;

/// <summary>
/// What a quest is charged, in one place. Never more than was reserved and never less than nothing: a provider's
/// figure outside that range (negative, or absurd) is not believed, and the reservation stands instead.
/// </summary>
public static class QuestCharges
{
    /// <summary>For a success: what the provider billed, where it said so and the figure is sane; else the reservation.</summary>
    public static int ForSuccess(int reserved, int? billed) => IsSane(billed) ? Math.Min(reserved, billed!.Value) : reserved;

    /// <summary>
    /// For a cancel: nothing while no provider has accepted the job; once one has, what it bills for the job (its
    /// reported cost, or the reservation when it gave none), since the provider charges us whether or not we wait.
    /// </summary>
    public static int ForCancel(Quest quest) => quest.ProviderJobId is null ? 0 : ForSuccess(quest.Cost, quest.ProviderCost);

    /// <summary>True for a figure a provider could really have billed: zero or more.</summary>
    public static bool IsSane(int? billed) => billed is >= 0;
}
