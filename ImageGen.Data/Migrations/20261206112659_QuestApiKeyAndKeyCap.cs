using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class QuestApiKeyAndKeyCap : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "api_key_id",
                table: "quests",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "monthly_spend_cap",
                table: "api_keys",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_quests_api_key_id_created_at",
                table: "quests",
                columns: new[] { "api_key_id", "created_at" },
                filter: "api_key_id IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_quests_api_key_id_created_at",
                table: "quests");

            migrationBuilder.DropColumn(
                name: "api_key_id",
                table: "quests");

            migrationBuilder.DropColumn(
                name: "monthly_spend_cap",
                table: "api_keys");
        }
    }
}
