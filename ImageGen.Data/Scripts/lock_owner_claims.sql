-- The lock a fair-share claim takes on the quest's owner before it counts their running quests (see
-- QuestTransitions.ClaimAsync). A procedure, so the lock is a statement with no result and goes in one round trip with
-- the claim that follows it; the advisory lock is held until that transaction ends.
CREATE PROCEDURE lock_owner_claims(quest uuid) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('claim:' || user_id::text, 0)) FROM quests WHERE id = quest;
END $$;
