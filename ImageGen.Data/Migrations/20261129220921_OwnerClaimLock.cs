using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class OwnerClaimLock : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The lock a fair-share claim takes on the quest's owner before it counts their running quests. A procedure,
            // so the lock is a statement with no result and goes in one round trip with the claim that follows it.
            migrationBuilder.Sql("""
                CREATE PROCEDURE lock_owner_claims(quest uuid) LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(hashtextextended('claim:' || user_id::text, 0)) FROM quests WHERE id = quest;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP PROCEDURE lock_owner_claims(uuid);");
        }
    }
}
