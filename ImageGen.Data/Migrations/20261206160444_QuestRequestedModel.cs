using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class QuestRequestedModel : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "requested_model",
                table: "quests",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "requested_model",
                table: "quests");
        }
    }
}
