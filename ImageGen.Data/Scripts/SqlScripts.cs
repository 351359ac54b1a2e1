namespace ImageGen.Data.Scripts;

/// <summary>
/// The SQL that lives in the database beside the tables (triggers, procedures), kept as <c>.sql</c> files in this
/// folder and embedded in the assembly, so it can be found and read as SQL; the migrations that create it read it here.
/// </summary>
public static class SqlScripts
{
    /// <summary>The balance trigger: each ledger entry adds to its owner's <c>credit_accounts</c> row.</summary>
    public static string CreditAccountsAddEntry => Read("credit_accounts_add_entry.sql");

    /// <summary>The procedure a fair-share claim calls to lock the quest's owner.</summary>
    public static string LockOwnerClaims => Read("lock_owner_claims.sql");

    private static string Read(string file)
    {
        using var stream = typeof(SqlScripts).Assembly.GetManifestResourceStream($"{typeof(SqlScripts).Namespace}.{file}")
            ?? throw new InvalidOperationException($"The SQL script {file} is not embedded in {typeof(SqlScripts).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
