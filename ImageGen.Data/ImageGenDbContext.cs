using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Data;

public sealed class ImageGenDbContext(DbContextOptions<ImageGenDbContext> options) : DbContext(options)
{
    /// <summary>The connection-string name, equal to the AppHost's database resource name.</summary>
    public const string ConnectionName = "imagegen-db";

    public DbSet<Quest> Quests => Set<Quest>();
    public DbSet<QuestImage> QuestImages => Set<QuestImage>();

    /// <summary>Options every registration applies, at run time and design time alike.</summary>
    public static void Configure(DbContextOptionsBuilder options) => options.UseSnakeCaseNamingConvention();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Quest>(quest =>
        {
            quest.ToTable("quests");
            quest.HasKey(q => q.Id);
            quest.Property(q => q.Id).ValueGeneratedNever();
            quest.Property(q => q.Prompt).IsRequired();
            quest.Property(q => q.Model).HasMaxLength(64).IsRequired();
            quest.Property(q => q.Status).HasConversion<string>().HasMaxLength(16);
            quest.Property(q => q.StatusText).HasMaxLength(200);
            quest.Property(q => q.ErrorCode).HasMaxLength(64);
            quest.Property(q => q.ErrorMessage).HasMaxLength(1000);
            quest.Property(q => q.TraceParent).HasMaxLength(64);
            // Listing newest first pages on (created_at, id).
            quest.HasIndex(q => new { q.CreatedAt, q.Id }).IsDescending();
            quest.HasMany(q => q.Images).WithOne().HasForeignKey(i => i.QuestId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<QuestImage>(image =>
        {
            image.ToTable("quest_images");
            image.HasKey(i => i.Id);
            image.Property(i => i.Id).ValueGeneratedNever();
            image.Property(i => i.ContentType).HasMaxLength(64);
            image.Property(i => i.Checksum).HasMaxLength(64);
            image.Property(i => i.StorageKey).HasMaxLength(200);
            // A quest stores each output index once, even if a worker retries after a crash.
            image.HasIndex(i => new { i.QuestId, i.Index }).IsUnique();
        });
    }
}
