namespace ImageGen.Data.Entities;

/// <summary>
/// A user's balance: the running sum of their ledger entries, kept by Postgres itself (a trigger adds every new entry
/// in the entry's own transaction), so reading a balance costs one row however long the history grows. The ledger
/// stays the record; nothing in the application writes this table.
/// </summary>
public sealed class CreditAccount
{
    public Guid UserId { get; set; }
    public int Balance { get; set; }
}
