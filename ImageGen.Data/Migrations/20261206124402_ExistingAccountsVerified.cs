using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <summary>
    /// Sign-up grants now wait for a verified email address. Accounts made before were granted at sign-up, so they count
    /// as verified: none of them is owed a second grant, nor is asked to verify.
    /// </summary>
    public partial class ExistingAccountsVerified : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("UPDATE users SET email_confirmed = true WHERE NOT email_confirmed;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: before this, the flag was not read.
        }
    }
}
