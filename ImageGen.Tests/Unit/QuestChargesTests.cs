using ImageGen.Data.Entities;
using ImageGen.Data.Quests;

namespace ImageGen.Tests.Unit;

/// <summary>What an ending charges: nothing before the provider's billing point, what it bills after, never over the reservation.</summary>
public sealed class QuestChargesTests
{
    private static Quest Quest(DateTimeOffset? billableSince = null, string? jobId = null, int? providerCost = null) => new()
    {
        Id = Guid.NewGuid(), UserId = Guid.NewGuid(), Prompt = "p", Model = "flux-pro-1.1", Parameters = new(), Cost = 8,
        BillableSince = billableSince, ProviderJobId = jobId, ProviderCost = providerCost,
    };

    [Fact]
    public void Before_the_billing_point_a_cancel_or_a_provider_failure_charges_nothing()
    {
        Assert.Equal(QuestCharge.Nothing, QuestCharges.ForCancel(Quest()));
        Assert.Equal(QuestCharge.Nothing, QuestCharges.ForProviderFailure(Quest(), providerBills: true));
    }

    [Fact]
    public void After_it_they_charge_what_the_provider_reported_or_else_the_reservation()
    {
        var sent = DateTimeOffset.UtcNow;
        Assert.Equal(new QuestCharge(8, 8), QuestCharges.ForProviderFailure(Quest(billableSince: sent), providerBills: true));
        Assert.Equal(new QuestCharge(8, 5), QuestCharges.ForProviderFailure(Quest(jobId: "job", providerCost: 5), providerBills: true));
        Assert.Equal(new QuestCharge(8, 8), QuestCharges.ForCancel(Quest(jobId: "job", providerCost: 500)));
        Assert.Equal(new QuestCharge(8, 8), QuestCharges.ForCancel(Quest(jobId: "job", providerCost: -3)));
    }

    [Fact]
    public void A_failure_the_provider_does_not_bill_charges_nothing_even_after_it() =>
        Assert.Equal(QuestCharge.Nothing, QuestCharges.ForProviderFailure(Quest(jobId: "job", providerCost: 5), providerBills: false));
}
