using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class QuestCharged : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "charged",
                table: "quests",
                type: "integer",
                nullable: true);

            // Quests that ended before the column existed: what they were charged is what their settlement kept.
            migrationBuilder.Sql("""
                UPDATE quests SET charged = quests.cost - e.amount
                FROM credit_entries e WHERE e.quest_id = quests.id AND e.kind IN ('capture', 'release');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "charged",
                table: "quests");
        }
    }
}
