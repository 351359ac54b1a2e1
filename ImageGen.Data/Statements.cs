using System.Data.Common;
using System.Text.Json;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace ImageGen.Data;

/// <summary>
/// Runs a hand-written statement on the context's connection, in its open transaction if there is one, and reads the
/// rows it returns without EF's query pipeline. For the statements a quest runs every time (its claim and its
/// settlement): EF processes a raw statement's parameters and generates its SQL again on every call, and that was a
/// fifth of a worker's CPU per quest. The statement and its parameters are the ones EF would send; a transient failure
/// is retried by the context's execution strategy, as EF's own queries are.
/// </summary>
public static class Statements
{
    /// <summary>The quests the statement returns (<c>RETURNING *</c> of <c>quests</c>), read as EF reads them.</summary>
    public static Task<List<Quest>> QuestsAsync(this ImageGenDbContext db, FormattableString statement, CancellationToken cancellationToken) =>
        db.ReadAsync(statement, QuestRow.ReaderFor, cancellationToken);

    /// <summary>The rows the statement returns, each read by <paramref name="read"/>.</summary>
    public static Task<List<T>> RowsAsync<T>(this ImageGenDbContext db, FormattableString statement, Func<DbDataReader, T> read, CancellationToken cancellationToken) =>
        db.ReadAsync(statement, _ => read, cancellationToken);

    /// <summary>The first column of each row the statement returns (a SQL null as the type's default).</summary>
    public static Task<List<T>> ValuesAsync<T>(this ImageGenDbContext db, FormattableString statement, CancellationToken cancellationToken) =>
        db.RowsAsync(statement, row => row.IsDBNull(0) ? default! : row.GetFieldValue<T>(0), cancellationToken);

    private static Task<List<T>> ReadAsync<T>(this ImageGenDbContext db, FormattableString statement, Func<DbDataReader, Func<DbDataReader, T>> readerFor,
        CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                await using var command = ((NpgsqlConnection)db.Database.GetDbConnection()).CreateCommand();
                command.Transaction = (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction();
                Sql.Bind(statement, command);
                await using var result = await command.ExecuteReaderAsync(cancellationToken);
                var read = readerFor(result);
                var rows = new List<T>();
                while (await result.ReadAsync(cancellationToken))
                {
                    rows.Add(read(result));
                }

                return rows;
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        });
}

/// <summary>A row of <c>quests</c> read by column name; every mapped property of <see cref="Quest"/> (a test holds it to EF's model).</summary>
internal static class QuestRow
{
    public static Func<DbDataReader, Quest> ReaderFor(DbDataReader reader)
    {
        int id = reader.GetOrdinal("id"), userId = reader.GetOrdinal("user_id"), prompt = reader.GetOrdinal("prompt"), model = reader.GetOrdinal("model"),
            requestedModel = reader.GetOrdinal("requested_model"),
            width = reader.GetOrdinal("width"), height = reader.GetOrdinal("height"), seed = reader.GetOrdinal("seed"),
            parameters = reader.GetOrdinal("parameters"), cost = reader.GetOrdinal("cost"), charged = reader.GetOrdinal("charged"), status = reader.GetOrdinal("status"),
            progress = reader.GetOrdinal("progress"), statusText = reader.GetOrdinal("status_text"), createdAt = reader.GetOrdinal("created_at"),
            startedAt = reader.GetOrdinal("started_at"), completedAt = reader.GetOrdinal("completed_at"), errorCode = reader.GetOrdinal("error_code"),
            errorMessage = reader.GetOrdinal("error_message"), enqueuedAt = reader.GetOrdinal("enqueued_at"), leaseUntil = reader.GetOrdinal("lease_until"),
            cancelRequested = reader.GetOrdinal("cancel_requested"), attempts = reader.GetOrdinal("attempts"),
            generationMilliseconds = reader.GetOrdinal("generation_milliseconds"), providerJobId = reader.GetOrdinal("provider_job_id"),
            providerPollingUrl = reader.GetOrdinal("provider_polling_url"), providerCost = reader.GetOrdinal("provider_cost"), billableSince = reader.GetOrdinal("billable_since"), apiKeyId = reader.GetOrdinal("api_key_id"),
            traceParent = reader.GetOrdinal("trace_parent"), inputs = reader.GetOrdinal("inputs"), webhookUrl = reader.GetOrdinal("webhook_url"),
            webhookEvents = reader.GetOrdinal("webhook_events"), descriptions = reader.GetOrdinal("descriptions");
        return row => new Quest
        {
            Id = row.GetGuid(id),
            UserId = row.GetGuid(userId),
            Prompt = row.GetString(prompt),
            Model = row.GetString(model),
            RequestedModel = Text(row, requestedModel),
            Width = Value<int>(row, width),
            Height = Value<int>(row, height),
            Seed = Value<long>(row, seed),
            Parameters = JsonSerializer.Deserialize<QuestParameters>(row.GetString(parameters), ImageGenDbContext.JsonOptions)!,
            Cost = row.GetInt32(cost),
            Charged = Value<int>(row, charged),
            Status = Enum.Parse<QuestStatus>(row.GetString(status)),
            Progress = row.GetDouble(progress),
            StatusText = Text(row, statusText),
            CreatedAt = row.GetFieldValue<DateTimeOffset>(createdAt),
            StartedAt = Value<DateTimeOffset>(row, startedAt),
            CompletedAt = Value<DateTimeOffset>(row, completedAt),
            ErrorCode = Text(row, errorCode),
            ErrorMessage = Text(row, errorMessage),
            EnqueuedAt = row.GetFieldValue<DateTimeOffset>(enqueuedAt),
            LeaseUntil = Value<DateTimeOffset>(row, leaseUntil),
            CancelRequested = row.GetBoolean(cancelRequested),
            Attempts = row.GetInt32(attempts),
            GenerationMilliseconds = Value<int>(row, generationMilliseconds),
            ProviderJobId = Text(row, providerJobId),
            ProviderPollingUrl = Text(row, providerPollingUrl),
            ProviderCost = Value<int>(row, providerCost),
            BillableSince = Value<DateTimeOffset>(row, billableSince),
            ApiKeyId = Value<Guid>(row, apiKeyId),
            TraceParent = Text(row, traceParent),
            Inputs = JsonSerializer.Deserialize<List<QuestInput>>(row.GetString(inputs), ImageGenDbContext.JsonOptions) ?? [],
            WebhookUrl = Text(row, webhookUrl),
            WebhookEvents = (Core.Webhooks.WebhookEvents)row.GetInt32(webhookEvents),
            Descriptions = row.IsDBNull(descriptions) ? null : [.. row.GetFieldValue<string[]>(descriptions)],
        };
    }

    private static readonly SqlFragment Always = new($"TRUE");

    /// <summary>
    /// The <c>INSERT</c> of a new quest, every mapped column from the quest as given (jsonb columns written as EF writes
    /// them), only if <paramref name="onlyIf"/> holds; a statement adds its <c>RETURNING</c>.
    /// </summary>
    public static SqlFragment Insert(Quest quest, SqlFragment? onlyIf = null)
    {
        string status = quest.Status.ToString(), parameters = JsonSerializer.Serialize(quest.Parameters, ImageGenDbContext.JsonOptions),
            inputs = JsonSerializer.Serialize(quest.Inputs, ImageGenDbContext.JsonOptions);
        return new($"""
            INSERT INTO quests (id, user_id, prompt, model, requested_model, width, height, seed, parameters, cost, charged, status, progress, status_text, created_at,
                started_at, completed_at, error_code, error_message, enqueued_at, lease_until, cancel_requested, attempts, generation_milliseconds,
                provider_job_id, provider_polling_url, provider_cost, billable_since, api_key_id, trace_parent, inputs, webhook_url, webhook_events, descriptions)
            SELECT {quest.Id}, {quest.UserId}, {quest.Prompt}, {quest.Model}, {quest.RequestedModel}::text, {quest.Width}::int, {quest.Height}::int, {quest.Seed}::bigint,
                {parameters}::jsonb, {quest.Cost}, {quest.Charged}::int, {status}, {quest.Progress}, {quest.StatusText}::text, {quest.CreatedAt}, {quest.StartedAt}::timestamptz,
                {quest.CompletedAt}::timestamptz, {quest.ErrorCode}::text, {quest.ErrorMessage}::text, {quest.EnqueuedAt}, {quest.LeaseUntil}::timestamptz,
                {quest.CancelRequested}, {quest.Attempts}, {quest.GenerationMilliseconds}::int, {quest.ProviderJobId}::text,
                {quest.ProviderPollingUrl}::text, {quest.ProviderCost}::int, {quest.BillableSince}::timestamptz, {quest.ApiKeyId}::uuid, {quest.TraceParent}::text, {inputs}::jsonb, {quest.WebhookUrl}::text,
                {(int)quest.WebhookEvents}, {quest.Descriptions?.ToArray()}::text[]
            WHERE {onlyIf ?? Always}
            """);
    }

    private static T? Value<T>(DbDataReader row, int column) where T : struct => row.IsDBNull(column) ? null : row.GetFieldValue<T>(column);

    private static string? Text(DbDataReader row, int column) => row.IsDBNull(column) ? null : row.GetString(column);
}
