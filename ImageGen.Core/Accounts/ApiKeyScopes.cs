namespace ImageGen.Core.Accounts;

/// <summary>
/// What an API key may do. A signed-in session may do everything its account may; a key only what its scopes name.
/// <see cref="Keys"/> and <see cref="Admin"/> are never given unless asked for by name, and only a signed-in session
/// (never another key) can make a key at all.
/// </summary>
public static class ApiKeyScopes
{
    /// <summary>Submit, read, list and cancel quests, and hear their events.</summary>
    public const string Quests = "quests";

    /// <summary>The gallery: read, link and delete images.</summary>
    public const string Images = "images";

    /// <summary>Read the balance and the ledger.</summary>
    public const string CreditsRead = "credits:read";

    /// <summary>The account's webhook settings, signing secret and delivery log.</summary>
    public const string Webhooks = "webhooks";

    /// <summary>List and revoke the account's keys.</summary>
    public const string Keys = "keys";

    /// <summary>The operator endpoints, for an account that has the admin role.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Quests, Images, CreditsRead, Webhooks, Keys, Admin];

    /// <summary>What a key gets when its maker names no scopes.</summary>
    public static readonly IReadOnlyList<string> Default = [Quests, Images, CreditsRead];

    /// <summary>The claim a key's principal carries once per scope.</summary>
    public const string Claim = "scope";
}
