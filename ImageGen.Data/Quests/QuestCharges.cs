using ImageGen.Data.Entities;

namespace ImageGen.Data.Quests;

/// <summary>
/// What a quest is charged, in one place: the transitions write the figure computed here and the ledger entry that
/// follows from it, and nothing else computes one. Never more than was reserved and never less than nothing: a
/// provider's figure outside that range (negative, or absurd) is not believed, and the reservation stands instead.
/// </summary>
public static class QuestCharges
{
    /// <summary>For a success: what the provider billed, where it said so and the figure is sane; else the reservation.</summary>
    public static QuestCharge ForSuccess(int reserved, int? billed) => new(reserved, IsSane(billed) ? Math.Min(reserved, billed!.Value) : reserved);

    /// <summary>
    /// For a cancel: nothing before the provider bills; from its billing point on (OpenAI: the request was sent; BFL
    /// and Midjourney: the job was accepted), what it bills for the job (its reported cost, or the reservation when it
    /// gave none), since the provider charges us whether or not we wait.
    /// </summary>
    public static QuestCharge ForCancel(Quest quest) => AfterBillingPoint(quest);

    /// <summary>
    /// For a run the provider failed (an error or no answer in time) after its billing point: what it bills, as for a
    /// cancel. Refusals it does not bill (a safety refusal, a rejected request: the adapter takes the billing mark back
    /// on such answers) and our own failures (storing the result) charge nothing.
    /// </summary>
    public static QuestCharge ForProviderFailure(Quest quest, bool providerBills) => providerBills ? AfterBillingPoint(quest) : QuestCharge.Nothing;

    /// <summary>Nothing before the provider's billing point; its reported cost (or the reservation) from then on.</summary>
    private static QuestCharge AfterBillingPoint(Quest quest) =>
        quest.BillableSince is null && quest.ProviderJobId is null ? QuestCharge.Nothing : ForSuccess(quest.Cost, quest.ProviderCost);

    /// <summary>True for a figure a provider could really have billed: zero or more.</summary>
    public static bool IsSane(int? billed) => billed is >= 0;
}

/// <summary>
/// What an ending charges: <see cref="Charged"/> of the <see cref="Reserved"/> credits; the rest goes back. A charge
/// applies only to a quest that still holds that reservation; <see cref="Nothing"/> gives the whole reservation back.
/// </summary>
public readonly record struct QuestCharge(int Reserved, int Charged)
{
    /// <summary>No charge: the whole reservation, whatever it is, goes back.</summary>
    public static QuestCharge Nothing => default;
}
