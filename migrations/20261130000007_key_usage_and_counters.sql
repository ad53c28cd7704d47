-- Which key of the ring made a backup-code set's hashes, so that an old key can be retired once
-- nothing depends on it (`server --key-usage`). NULL for sets made before this column: their key
-- is learned the first time one of their codes is used.
ALTER TABLE backup_codes ADD COLUMN key_id text;

-- Two more counters: wrong second-factor codes from one recognised browser (so that guessing
-- codes elsewhere cannot lock the owner's own browser out), and wrong answers given inside one
-- signed-in session ("Confirm it's you", the current password), which hold that session only.
ALTER TABLE attempt_counters DROP CONSTRAINT attempt_counters_kind_check;
ALTER TABLE attempt_counters ADD CONSTRAINT attempt_counters_kind_check
    CHECK (kind IN ('account', 'browser', 'second_factor', 'browser_second_factor', 'session',
                    'client', 'step_up', 'sign_up'));

-- TRUNCATE skips row triggers: refuse it too.
CREATE FUNCTION security_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER security_events_no_truncate
    BEFORE TRUNCATE ON security_events
    FOR EACH STATEMENT EXECUTE FUNCTION security_events_no_truncate();
