using ImageGen.Core.Accounts;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data.Credits;

/// <summary>
/// Reads and writes the credits ledger. The ledger is the record: a balance is the sum of the user's entries, which
/// Postgres keeps in <c>credit_accounts</c> as each entry is added (see <see cref="CreditAccount"/>).
/// </summary>
public static class CreditLedger
{
    public static async Task<int> BalanceAsync(this ImageGenDbContext db, Guid userId, CancellationToken cancellationToken) =>
        await db.CreditAccounts.Where(a => a.UserId == userId).Select(a => (int?)a.Balance).FirstOrDefaultAsync(cancellationToken) ?? 0;

    /// <summary>Credits held for quests that are neither captured nor released yet.</summary>
    public static Task<int> ReservedAsync(this ImageGenDbContext db, Guid userId, CancellationToken cancellationToken) =>
        db.CreditEntries
            .Where(r => r.UserId == userId && r.Kind == CreditEntryKind.Reserve
                && !db.CreditEntries.Any(s => s.QuestId == r.QuestId && (s.Kind == CreditEntryKind.Capture || s.Kind == CreditEntryKind.Release)))
            .SumAsync(r => -r.Amount, cancellationToken);

    /// <summary>
    /// Takes the user's account lock in the current transaction and reads the balance under it, in one statement: the
    /// account row, locked by an update that changes nothing (made first, at 0, for a user with no entry yet), so
    /// parallel submits cannot all spend the same credits. An update waits for whoever holds the row and then reads its
    /// latest committed version, so the balance includes every reservation committed before; the lock is released at
    /// commit or rollback. What <see cref="BalanceAsync"/> reads, locked.
    /// </summary>
    private static async Task<int> LockAccountAndReadBalanceAsync(this ImageGenDbContext db, Guid userId, CancellationToken cancellationToken) =>
        (await db.ValuesAsync<int>($"{AccountLock(userId)} RETURNING balance", cancellationToken)).Single();

    /// <summary>The statement that takes the user's account lock: an update of the account row that changes nothing.</summary>
    internal static SqlFragment AccountLock(Guid userId) => new($"""
        INSERT INTO credit_accounts (user_id, balance) VALUES ({userId}, 0)
        ON CONFLICT (user_id) DO UPDATE SET balance = credit_accounts.balance
        """);

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction that holds the user's account lock, given the balance as it
    /// stands; the work adds its rows and returns true to commit them, false to leave everything as it was.
    /// Retried as a whole by the execution strategy if the connection drops.
    /// </summary>
    public static Task InAccountTransactionAsync(this ImageGenDbContext db, Guid userId, Func<int, Task<bool>> work, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (await work(await db.LockAccountAndReadBalanceAsync(userId, cancellationToken)))
            {
                // The transaction commits or rolls back as a whole: no savepoint (two more round trips) around the save.
                db.Database.AutoSavepointsEnabled = false;
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                finally
                {
                    db.Database.AutoSavepointsEnabled = true;
                }

                await transaction.CommitAsync(cancellationToken);
            }
        });

    public static CreditEntry Entry(Guid userId, CreditEntryKind kind, int amount, DateTimeOffset at, Guid? questId = null, string? reason = null, Guid? by = null) =>
        new() { UserId = userId, Kind = kind, Amount = amount, QuestId = questId, Reason = reason, CreatedBy = by, CreatedAt = at };

    /// <summary>The grant a new account gets: a person's when their email address is verified, the first admin's with the seed.</summary>
    public static CreditEntry WelcomeGrant(Guid userId, int amount, DateTimeOffset at) =>
        Entry(userId, CreditEntryKind.Grant, amount, at, reason: "Welcome grant");

    /// <summary>
    /// Marks the account's email address verified and adds the sign-up grant, together, under the account lock; only the
    /// first verification grants (a link opened twice, or twice at once, grants once). Returns the credits granted.
    /// </summary>
    public static async Task<int> VerifyEmailAndGrantAsync(this ImageGenDbContext db, Guid userId, int grant, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var granted = 0;
        await db.InAccountTransactionAsync(userId, async _ =>
        {
            granted = 0;
            var verified = await db.Users.Where(u => u.Id == userId && !u.EmailConfirmed).ExecuteUpdateAsync(u => u
                .SetProperty(x => x.EmailConfirmed, true)
                .SetProperty(x => x.ConcurrencyStamp, Guid.NewGuid().ToString()), cancellationToken);
            if (verified == 0)
            {
                return true;
            }

            if (grant > 0)
            {
                db.CreditEntries.Add(WelcomeGrant(userId, grant, at));
                granted = grant;
            }

            return true;
        }, cancellationToken);
        return granted;
    }

    /// <summary>
    /// An operator's grant or adjustment of <paramref name="amount"/> with its reason, under the account lock: the same
    /// <paramref name="idempotencyKey"/> again finds the first entry (sent twice at once too) and adds nothing; an
    /// adjustment never takes the balance below zero.
    /// </summary>
    public static async Task<AdjustOutcome> AdjustAsync(this ImageGenDbContext db, Guid userId, CreditEntryKind kind, int amount, string reason, Guid by,
        string? idempotencyKey, DateTimeOffset at, CancellationToken cancellationToken)
    {
        AdjustOutcome outcome = new AdjustOutcome.KeyReused();
        await db.InAccountTransactionAsync(userId, async balance =>
        {
            if (idempotencyKey is not null
                && await db.CreditEntries.AsNoTracking().FirstOrDefaultAsync(e => e.UserId == userId && e.IdempotencyKey == idempotencyKey, cancellationToken) is { } earlier)
            {
                outcome = earlier.Kind == kind && earlier.Amount == amount ? new AdjustOutcome.Replayed(earlier) : new AdjustOutcome.KeyReused();
                return false;
            }

            if (balance + amount < 0)
            {
                outcome = new AdjustOutcome.WouldBeNegative(balance);
                return false;
            }

            var entry = Entry(userId, kind, amount, at, reason: reason, by: by);
            entry.IdempotencyKey = idempotencyKey;
            db.CreditEntries.Add(entry);
            outcome = new AdjustOutcome.Added(entry);
            return true;
        }, cancellationToken);
        return outcome;
    }
}

/// <summary>What became of an operator's grant or adjustment.</summary>
public abstract record AdjustOutcome
{
    private AdjustOutcome()
    {
    }

    /// <summary>The entry was added.</summary>
    public sealed record Added(CreditEntry Entry) : AdjustOutcome;

    /// <summary>The same key and entry again: the first entry, nothing added.</summary>
    public sealed record Replayed(CreditEntry Entry) : AdjustOutcome;

    /// <summary>The key was used for a different entry.</summary>
    public sealed record KeyReused : AdjustOutcome;

    /// <summary>The adjustment would take the balance below zero.</summary>
    public sealed record WouldBeNegative(int Balance) : AdjustOutcome;
}
