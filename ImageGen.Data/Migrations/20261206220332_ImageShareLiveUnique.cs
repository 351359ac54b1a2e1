using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class ImageShareLiveUnique : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ux_image_shares_live",
                table: "image_shares",
                column: "image_id",
                unique: true,
                filter: "revoked_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_image_shares_live",
                table: "image_shares");
        }
    }
}
