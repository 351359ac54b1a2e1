using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class ImageVariantsAndDeletion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "deleted_at",
                table: "quest_images",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "placeholder",
                table: "quest_images",
                type: "character varying(4096)",
                maxLength: 4096,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_quest_images_user_id_created_at_id",
                table: "quest_images",
                columns: new[] { "user_id", "created_at", "id" },
                descending: new[] { false, true, true },
                filter: "deleted_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_quest_images_user_id_created_at_id",
                table: "quest_images");

            migrationBuilder.DropColumn(
                name: "deleted_at",
                table: "quest_images");

            migrationBuilder.DropColumn(
                name: "placeholder",
                table: "quest_images");
        }
    }
}
