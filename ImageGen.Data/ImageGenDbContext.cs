using System.Text.Json;
using ImageGen.Core.Accounts;
using ImageGen.Core.Quests;
using ImageGen.Core.Webhooks;
using ImageGen.Data.Entities;
using ImageGen.Data.Quests;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data;

public sealed class ImageGenDbContext(DbContextOptions<ImageGenDbContext> options)
    : IdentityDbContext<ImageGenUser, IdentityRole<Guid>, Guid>(options), IDataProtectionKeyContext
{
    /// <summary>The connection-string name, equal to the AppHost's database resource name.</summary>
    public const string ConnectionName = "imagegen-db";

    public const int IdempotencyKeyMaxLength = 255;

    public DbSet<Quest> Quests => Set<Quest>();
    public DbSet<QuestImage> QuestImages => Set<QuestImage>();
    public DbSet<CreditEntry> CreditEntries => Set<CreditEntry>();
    public DbSet<CreditAccount> CreditAccounts => Set<CreditAccount>();
    public DbSet<QuestStep> QuestSteps => Set<QuestStep>();
    public DbSet<Alert> Alerts => Set<Alert>();
    public DbSet<AlertChannel> AlertChannels => Set<AlertChannel>();
    public DbSet<AlertDelivery> AlertDeliveries => Set<AlertDelivery>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<IdempotencyKey> IdempotencyKeys => Set<IdempotencyKey>();
    public DbSet<Upload> Uploads => Set<Upload>();
    public DbSet<ImageShare> ImageShares => Set<ImageShare>();
    public DbSet<Collection> Collections => Set<Collection>();
    public DbSet<CollectionImage> CollectionImages => Set<CollectionImage>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    /// <summary>Keys that protect bearer and refresh tokens, shared by every API instance.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>How the jsonb columns are written and read (also by <see cref="QuestRow"/>).</summary>
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// Options every user of the context shares. Transient failures (a dropped connection, a failover) are retried
    /// briefly: three times within about three seconds, so an outage becomes a quick 503 rather than a long wait.
    /// </summary>
    public static void Configure(DbContextOptionsBuilder options) => options
        .UseNpgsql(npgsql => npgsql.EnableRetryOnFailure(maxRetryCount: 3, maxRetryDelay: TimeSpan.FromSeconds(1), errorCodesToAdd: null))
        .UseSnakeCaseNamingConvention();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<ImageGenUser>().ToTable("users");
        builder.Entity<IdentityRole<Guid>>().ToTable("roles");
        builder.Entity<IdentityUserRole<Guid>>().ToTable("user_roles");
        builder.Entity<IdentityUserClaim<Guid>>().ToTable("user_claims");
        builder.Entity<IdentityUserLogin<Guid>>().ToTable("user_logins");
        builder.Entity<IdentityUserToken<Guid>>().ToTable("user_tokens");
        builder.Entity<IdentityRoleClaim<Guid>>().ToTable("role_claims");
        builder.Entity<DataProtectionKey>().ToTable("data_protection_keys");

        builder.Entity<Quest>(quest =>
        {
            quest.ToTable("quests");
            quest.HasKey(q => q.Id);
            quest.Property(q => q.Id).ValueGeneratedNever();
            quest.Property(q => q.Prompt).IsRequired();
            quest.Property(q => q.Model).HasMaxLength(64).IsRequired();
            quest.Property(q => q.RequestedModel).HasMaxLength(64);
            quest.Property(q => q.Status).HasConversion<string>().HasMaxLength(16);
            quest.Property(q => q.StatusText).HasMaxLength(QuestLimits.MaxStatusTextLength);
            quest.Property(q => q.ErrorCode).HasMaxLength(QuestLimits.MaxErrorCodeLength);
            quest.Property(q => q.ErrorMessage).HasMaxLength(QuestLimits.MaxErrorMessageLength);
            quest.Property(q => q.TraceParent).HasMaxLength(64);
            quest.Property(q => q.ProviderJobId).HasMaxLength(QuestLimits.MaxProviderJobIdLength);
            quest.Property(q => q.ProviderPollingUrl).HasMaxLength(QuestLimits.MaxPollingUrlLength);
            quest.Property(q => q.Parameters).HasColumnType("jsonb").HasConversion(
                v => JsonSerializer.Serialize(v, JsonOptions),
                v => JsonSerializer.Deserialize<QuestParameters>(v, JsonOptions)!);
            quest.HasOne<ImageGenUser>().WithMany().HasForeignKey(q => q.UserId).OnDelete(DeleteBehavior.Restrict);
            // A user's list, newest first, pages on (user_id, created_at, id).
            quest.HasIndex(q => new { q.UserId, q.CreatedAt, q.Id }).IsDescending(false, true, true);
            // A key's spend in a month, for its cap (only quests a key made have one).
            quest.HasIndex(q => new { q.ApiKeyId, q.CreatedAt }).HasFilter("api_key_id IS NOT NULL");
            // The reconciler looks for quests that are not finished, by state and age.
            quest.HasIndex(q => new { q.Status, q.CreatedAt }).HasFilter("status IN ('Queued', 'Running')");
            // A claim counts the owner's running quests (fair share).
            quest.HasIndex(q => q.UserId, "ix_quests_user_running").HasFilter("status = 'Running'").HasDatabaseName("ix_quests_user_running");
            // A run's end finds its owner's oldest waiting quest (fair share): one lookup, not a walk through their history.
            quest.HasIndex(q => new { q.UserId, q.CreatedAt }, "ix_quests_user_queued").HasFilter("status = 'Queued'").HasDatabaseName("ix_quests_user_queued");
            // A waiting quest's place counts, per owner, the waiting quests sent to the stream before it (QueuePlaces): read
            // from this index alone.
            quest.HasIndex(q => new { q.EnqueuedAt, q.Id }, "ix_quests_queue_order").HasFilter("status = 'Queued'")
                .IncludeProperties(q => new { q.UserId, q.Model }).HasDatabaseName("ix_quests_queue_order");
            quest.Property(q => q.Inputs).HasColumnType("jsonb").HasConversion(
                v => JsonSerializer.Serialize(v, JsonOptions),
                v => JsonSerializer.Deserialize<List<QuestInput>>(v, JsonOptions) ?? new List<QuestInput>(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<List<QuestInput>>(
                    (a, b) => a!.SequenceEqual(b!), v => v.Count, v => v.ToList()))
                .HasDefaultValueSql("'[]'::jsonb");
            quest.Property(q => q.WebhookUrl).HasMaxLength(WebhookLimits.MaxUrlLength);
            quest.Property(q => q.WebhookEvents).HasDefaultValue(Core.Webhooks.WebhookEvents.None);
            quest.HasMany(q => q.Images).WithOne().HasForeignKey(i => i.QuestId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<QuestImage>(image =>
        {
            image.ToTable("quest_images");
            image.HasKey(i => i.Id);
            image.Property(i => i.Id).ValueGeneratedNever();
            image.Property(i => i.ContentType).HasMaxLength(64);
            image.Property(i => i.Checksum).HasMaxLength(64);
            image.Property(i => i.StorageKey).HasMaxLength(200);
            // A quest stores each output index once, even if a worker retries after a crash.
            image.HasIndex(i => new { i.QuestId, i.Index }).IsUnique();
            image.Property(i => i.Placeholder).HasMaxLength(4096);
            // The gallery: one user's images, newest first, deleted ones left out.
            image.HasIndex(i => new { i.UserId, i.CreatedAt, i.Id }).IsDescending(false, true, true).HasFilter("deleted_at IS NULL");
        });

        builder.Entity<QuestStep>(step =>
        {
            step.ToTable("quest_steps");
            step.HasKey(s => s.Id);
            step.Property(s => s.Kind).HasMaxLength(32);
            step.Property(s => s.Code).HasMaxLength(QuestLimits.MaxErrorCodeLength);
            step.Property(s => s.Detail).HasMaxLength(QuestStepLimits.MaxDetailLength);
            step.Property(s => s.Circuit).HasMaxLength(16);
            step.Property(s => s.Sent).HasColumnType("jsonb");
            step.HasOne<Quest>().WithMany().HasForeignKey(s => s.QuestId).OnDelete(DeleteBehavior.Cascade);
            step.HasIndex(s => new { s.QuestId, s.Id });
        });

        builder.Entity<Alert>(alert =>
        {
            alert.ToTable("alerts");
            alert.HasKey(a => a.Id);
            alert.Property(a => a.Key).HasMaxLength(128);
            alert.Property(a => a.Kind).HasMaxLength(32);
            alert.Property(a => a.Message).HasMaxLength(500);
            // One active alert per condition and subject, whichever evaluator writes it.
            alert.HasIndex(a => a.Key).IsUnique().HasFilter("resolved_at IS NULL").HasDatabaseName("ux_alerts_active_key");
            alert.HasIndex(a => a.FiredAt);
        });

        builder.Entity<AlertChannel>(channel =>
        {
            channel.ToTable("alert_channels");
            channel.HasKey(c => c.Id);
            channel.Property(c => c.Id).ValueGeneratedNever();
            channel.Property(c => c.Kind).HasMaxLength(16);
            channel.Property(c => c.Target).HasMaxLength(WebhookLimits.MaxUrlLength);
            channel.Property(c => c.Secret).HasMaxLength(64);
        });

        builder.Entity<AlertDelivery>(delivery =>
        {
            delivery.ToTable("alert_deliveries");
            delivery.HasKey(d => d.Id);
            delivery.Property(d => d.Id).ValueGeneratedNever();
            delivery.Property(d => d.AlertKey).HasMaxLength(128);
            delivery.Property(d => d.Event).HasMaxLength(16);
            delivery.Property(d => d.Status).HasMaxLength(16);
            delivery.Property(d => d.Message).HasMaxLength(1000);
            delivery.Property(d => d.LastError).HasMaxLength(500);
            delivery.HasOne<AlertChannel>().WithMany().HasForeignKey(d => d.ChannelId).OnDelete(DeleteBehavior.Cascade);
            // The sender's walk (pending, due first) and grouping's read-back (a key's latest messages).
            delivery.HasIndex(d => d.NextAttemptAt).HasFilter("status = 'pending'").HasDatabaseName("ix_alert_deliveries_pending");
            delivery.HasIndex(d => new { d.AlertKey, d.CreatedAt });
        });

        builder.Entity<CreditEntry>(entry =>
        {
            entry.ToTable("credit_entries", t => t.HasCheckConstraint("ck_credit_entries_capture_not_negative", "kind <> 'capture' OR amount >= 0"));
            entry.HasKey(e => e.Id);
            entry.Property(e => e.Kind).HasConversion(k => k.ToString().ToLowerInvariant(), v => Enum.Parse<CreditEntryKind>(v, true)).HasMaxLength(16);
            entry.Property(e => e.Reason).HasMaxLength(CreditLimits.MaxReasonLength);
            entry.HasOne<ImageGenUser>().WithMany().HasForeignKey(e => e.UserId).OnDelete(DeleteBehavior.Restrict);
            entry.HasIndex(e => new { e.UserId, e.Id });
            // Exactly once, by constraint rather than by hope: one reservation per quest, and one settlement
            // (capture or release) per quest, whatever crashes or retries happen in between.
            entry.HasIndex(e => new { e.QuestId, e.Kind }).IsUnique().HasFilter("quest_id IS NOT NULL").HasDatabaseName("ux_credit_entries_quest_kind");
            entry.HasIndex(e => e.QuestId).IsUnique().HasFilter("kind IN ('capture', 'release')").HasDatabaseName("ux_credit_entries_quest_settlement");
            // An operator's entry sent twice with one key (a retry, a double click) is made once.
            entry.Property(e => e.IdempotencyKey).HasMaxLength(IdempotencyKeyMaxLength);
            entry.HasIndex(e => new { e.UserId, e.IdempotencyKey }).IsUnique().HasFilter("idempotency_key IS NOT NULL").HasDatabaseName("ux_credit_entries_idempotency");
        });

        builder.Entity<CreditAccount>(account =>
        {
            account.ToTable("credit_accounts");
            account.HasKey(a => a.UserId);
            account.HasOne<ImageGenUser>().WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<ImageShare>(share =>
        {
            share.ToTable("image_shares");
            share.HasKey(s => s.Id);
            share.Property(s => s.Id).ValueGeneratedNever();
            share.Property(s => s.TokenHash).HasMaxLength(64);
            share.HasIndex(s => s.TokenHash).IsUnique();
            share.HasIndex(s => s.ImageId);
            // At most one live link per image.
            share.HasIndex(s => s.ImageId, "ux_image_shares_live").IsUnique().HasFilter("revoked_at IS NULL").HasDatabaseName("ux_image_shares_live");
            share.HasOne<QuestImage>().WithMany().HasForeignKey(s => s.ImageId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Collection>(collection =>
        {
            collection.ToTable("collections");
            collection.HasKey(c => c.Id);
            collection.Property(c => c.Id).ValueGeneratedNever();
            collection.Property(c => c.Name).HasMaxLength(Collection.MaxNameLength);
            collection.HasIndex(c => new { c.UserId, c.Name }).IsUnique();
            collection.HasOne<ImageGenUser>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<CollectionImage>(member =>
        {
            member.ToTable("collection_images");
            member.HasKey(m => new { m.CollectionId, m.ImageId });
            member.HasIndex(m => m.ImageId);
            member.HasOne<Collection>().WithMany().HasForeignKey(m => m.CollectionId).OnDelete(DeleteBehavior.Cascade);
            member.HasOne<QuestImage>().WithMany().HasForeignKey(m => m.ImageId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Upload>(upload =>
        {
            upload.ToTable("uploads");
            upload.HasKey(u => u.Id);
            upload.Property(u => u.Id).ValueGeneratedNever();
            upload.Property(u => u.StorageKey).HasMaxLength(100);
            upload.Property(u => u.ContentType).HasMaxLength(40);
            upload.HasIndex(u => new { u.UserId, u.CreatedAt });
            // The expiry sweep's walk: unused uploads, oldest first.
            upload.HasIndex(u => u.CreatedAt).HasFilter("used_at IS NULL").HasDatabaseName("ix_uploads_unused");
        });

        builder.Entity<WebhookEndpoint>(endpoint =>
        {
            endpoint.ToTable("webhook_endpoints");
            endpoint.HasKey(e => e.UserId);
            endpoint.Property(e => e.Url).HasMaxLength(WebhookLimits.MaxUrlLength);
            endpoint.Property(e => e.Secret).HasMaxLength(64);
            endpoint.Property(e => e.PreviousSecret).HasMaxLength(64);
            endpoint.HasOne<ImageGenUser>().WithOne().HasForeignKey<WebhookEndpoint>(e => e.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<WebhookDelivery>(delivery =>
        {
            delivery.ToTable("webhook_deliveries");
            delivery.HasKey(d => d.Id);
            delivery.Property(d => d.Id).ValueGeneratedNever();
            delivery.Property(d => d.Type).HasMaxLength(32);
            delivery.Property(d => d.Url).HasMaxLength(WebhookLimits.MaxUrlLength);
            delivery.Property(d => d.QuestStatus).HasConversion<string>().HasMaxLength(16);
            delivery.Property(d => d.State).HasConversion(s => s.ToString().ToLowerInvariant(), v => Enum.Parse<WebhookDeliveryState>(v, true)).HasMaxLength(16);
            delivery.Property(d => d.LastError).HasMaxLength(WebhookLimits.MaxErrorLength);
            // Text, not jsonb: the bytes signed are the bytes kept and sent again.
            delivery.Property(d => d.AttemptLog).HasColumnType("jsonb").HasDefaultValueSql("'[]'::jsonb");
            delivery.HasOne<Quest>().WithMany().HasForeignKey(d => d.QuestId).OnDelete(DeleteBehavior.Cascade);
            // The dispatcher takes what is due; a small partial index, since delivered rows are most of the table.
            delivery.HasIndex(d => d.NextAttemptAt).HasFilter("state = 'pending'").HasDatabaseName("ix_webhook_deliveries_due");
            // The owner's delivery log, newest first.
            delivery.HasIndex(d => new { d.UserId, d.CreatedAt, d.Id }).IsDescending(false, true, true);
            delivery.HasIndex(d => d.QuestId);
        });

        builder.Entity<IdempotencyKey>(key =>
        {
            key.ToTable("idempotency_keys");
            key.HasKey(k => new { k.UserId, k.Key });
            key.Property(k => k.Key).HasMaxLength(IdempotencyKeyMaxLength);
            key.Property(k => k.RequestHash).HasMaxLength(64);
            key.HasIndex(k => k.CreatedAt);
        });

        builder.Entity<ApiKey>(key =>
        {
            key.ToTable("api_keys");
            key.HasKey(k => k.Id);
            key.Property(k => k.Id).ValueGeneratedNever();
            key.Property(k => k.Name).HasMaxLength(100);
            key.Property(k => k.Prefix).HasMaxLength(32);
            key.Property(k => k.Hash).HasMaxLength(64);
            // Keys made before scopes existed keep what they were used for, short of keys and admin.
            key.Property(k => k.Scopes).HasMaxLength(200).HasDefaultValue("quests images credits:read");
            key.HasIndex(k => k.Prefix).IsUnique();
            key.HasIndex(k => k.UserId);
            key.HasOne<ImageGenUser>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
