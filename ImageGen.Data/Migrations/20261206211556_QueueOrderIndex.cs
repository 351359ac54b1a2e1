using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class QueueOrderIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_quests_queue_order",
                table: "quests",
                columns: new[] { "enqueued_at", "id" },
                filter: "status = 'Queued'")
                .Annotation("Npgsql:IndexInclude", new[] { "user_id", "model" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_quests_queue_order",
                table: "quests");
        }
    }
}
