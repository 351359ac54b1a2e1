-- The balance of an account is the sum of its ledger entries: every entry added to credit_entries adds its amount to
-- the owner's row in credit_accounts (made on the first entry), in the same transaction as the entry.
CREATE FUNCTION credit_accounts_add_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO credit_accounts (user_id, balance) VALUES (NEW.user_id, NEW.amount)
    ON CONFLICT (user_id) DO UPDATE SET balance = credit_accounts.balance + EXCLUDED.balance;
    RETURN NULL;
END $$;

CREATE TRIGGER tr_credit_entries_add_to_account AFTER INSERT ON credit_entries
    FOR EACH ROW EXECUTE FUNCTION credit_accounts_add_entry();
