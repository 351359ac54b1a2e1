using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ImageGen.Data.Migrations
{
    /// <inheritdoc />
    public partial class CreditAccounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "credit_accounts",
                columns: table => new
                {
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    balance = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_credit_accounts", x => x.user_id);
                    table.ForeignKey(
                        name: "fk_credit_accounts_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            // Every new ledger entry adds itself to its user's balance in the same transaction; entries are never
            // changed or removed. The balances of the entries already there are summed once.
            migrationBuilder.Sql(Scripts.SqlScripts.CreditAccountsAddEntry);
            migrationBuilder.Sql("""
                INSERT INTO credit_accounts (user_id, balance)
                    SELECT user_id, SUM(amount)::int FROM credit_entries GROUP BY user_id;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER tr_credit_entries_add_to_account ON credit_entries;
                DROP FUNCTION credit_accounts_add_entry();
                """);
            migrationBuilder.DropTable(
                name: "credit_accounts");
        }
    }
}
