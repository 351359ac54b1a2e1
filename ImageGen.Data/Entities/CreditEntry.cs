using ImageGen.Core.Accounts;

namespace ImageGen.Data.Entities;

/// <summary>One line of the credits ledger. Entries are only ever added, never changed or removed.</summary>
public sealed class CreditEntry
{
    public long Id { get; set; }
    public Guid UserId { get; set; }
    public CreditEntryKind Kind { get; set; }

    /// <summary>Signed: what this entry adds to the balance.</summary>
    public int Amount { get; set; }
    public Guid? QuestId { get; set; }
    public string? Reason { get; set; }

    /// <summary>The operator who made a grant or adjustment.</summary>
    public Guid? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>An operator's grant or adjustment made with an Idempotency-Key: the same key makes it once.</summary>
    public string? IdempotencyKey { get; set; }
}
