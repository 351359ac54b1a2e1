using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class ImageFavoritesAndPromptSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "favorite_at",
                table: "quest_images",
                type: "timestamp with time zone",
                nullable: true);

            // Prompt search (?q=): full-text over the prompt's words, the same expression the queries use.
            migrationBuilder.Sql("CREATE INDEX ix_quests_prompt_words ON quests USING GIN (to_tsvector('simple'::regconfig, prompt));");

            // A user's favourites, newest first, without reading every image of theirs.
            migrationBuilder.Sql("CREATE INDEX ix_quest_images_favorites ON quest_images (user_id, created_at DESC, id DESC) WHERE favorite_at IS NOT NULL;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX IF EXISTS ix_quest_images_favorites;");
            migrationBuilder.Sql("DROP INDEX IF EXISTS ix_quests_prompt_words;");
            migrationBuilder.DropColumn(
                name: "favorite_at",
                table: "quest_images");
        }
    }
}
