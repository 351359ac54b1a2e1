using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <summary>Uploads record when a quest first used them; unused ones expire (and have an index to find them by).</summary>
    public partial class UploadUsedAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "used_at",
                table: "uploads",
                type: "timestamp with time zone",
                nullable: true);

            // Uploads a quest already took count as used, so the first sweep keeps them.
            migrationBuilder.Sql("""
                UPDATE uploads u SET used_at = u.created_at
                WHERE EXISTS (SELECT 1 FROM quests q WHERE q.user_id = u.user_id
                              AND q.inputs @> jsonb_build_array(jsonb_build_object('id', u.id::text)));
                """);

            migrationBuilder.CreateIndex(
                name: "ix_uploads_unused",
                table: "uploads",
                column: "created_at",
                filter: "used_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_uploads_unused",
                table: "uploads");

            migrationBuilder.DropColumn(
                name: "used_at",
                table: "uploads");
        }
    }
}
