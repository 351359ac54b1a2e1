using System.Text.Json.Serialization;

namespace ImageGen.Core.Accounts;

/// <summary>
/// The kinds of ledger entries. A balance is the sum of a user's entries: grants and releases add, reservations
/// subtract, an adjustment is an operator's correction. A capture settles a reservation as charged; its amount is
/// what the provider did not bill of the estimate (usually 0), returned in the same entry.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<CreditEntryKind>))]
public enum CreditEntryKind
{
    Grant,
    Reserve,
    Capture,
    Release,
    Adjust,
}

public sealed record CreditEntryDto(long Id, CreditEntryKind Kind, int Amount, Guid? QuestId, string? Reason, DateTimeOffset CreatedAt);

/// <summary>
/// <see cref="Balance"/> is what can be spent now; <see cref="Reserved"/> is held for quests still running
/// (already subtracted from the balance).
/// </summary>
public sealed record CreditsDto(int Balance, int Reserved, IReadOnlyList<CreditEntryDto> Entries, string? NextCursor);

/// <summary>
/// Where the credits went over a period (<c>from</c> inclusive, <c>to</c> exclusive; by when quests ended): by model,
/// by credential (a key, or the signed-in session: <see cref="SpendByKeyDto.KeyId"/> null) and by month (UTC).
/// </summary>
public sealed record SpendDto(DateTimeOffset From, DateTimeOffset To, int Total, IReadOnlyList<SpendByModelDto> ByModel, IReadOnlyList<SpendByKeyDto> ByKey,
    IReadOnlyList<SpendByMonthDto> ByMonth, IReadOnlyList<SpendByMonthDto> ByDay);

/// <summary>
/// The same spend as <see cref="SpendDto"/>, grouped one way (<c>model</c>, <c>key</c>, <c>day</c> or <c>month</c>):
/// each group's <see cref="UsageRowDto.Key"/> (a model id, an API key id or "session", <c>yyyy-MM-dd</c>, <c>yyyy-MM</c>)
/// and a readable <see cref="UsageRowDto.Label"/>.
/// </summary>
public sealed record UsageDto(DateTimeOffset From, DateTimeOffset To, string GroupBy, int Total, IReadOnlyList<UsageRowDto> Rows);

public sealed record UsageRowDto(string Key, string Label, int Credits, int Quests);

public sealed record SpendByModelDto(string Model, int Credits, int Quests);

/// <summary>A key's spend; <paramref name="KeyId"/> null for quests made from a session (the web, a token).</summary>
public sealed record SpendByKeyDto(Guid? KeyId, string Name, int Credits, int Quests);

/// <summary>A month's (or, in <see cref="SpendDto.ByDay"/>, a day's) spend; <paramref name="Month"/> as <c>yyyy-MM</c> (<c>yyyy-MM-dd</c>).</summary>
public sealed record SpendByMonthDto(string Month, int Credits, int Quests);

/// <summary>An operator's grant (positive) or adjustment (either sign), always with a reason.</summary>
public sealed record AdminCreditRequest
{
    public CreditEntryKind? Kind { get; init; }
    public int? Amount { get; init; }
    public string? Reason { get; init; }
}

/// <summary>Limits on one operator entry: large enough for any real correction, small enough to catch a typo.</summary>
public static class CreditLimits
{
    public const int MaxAdminAmount = 1_000_000;
    public const int MaxReasonLength = 500;
}
