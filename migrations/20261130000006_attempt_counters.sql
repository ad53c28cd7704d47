-- Every attempt counter in one table of its own, so that the security log is append-only for
-- the application (the step-up limit used to count, and take back, log entries). Replaces
-- `sign_in_failures` (renamed; its rows keep counting) and the second-factor counter on `users`.
ALTER TABLE sign_in_failures RENAME TO attempt_counters;
ALTER INDEX sign_in_failures_pkey RENAME TO attempt_counters_pkey;
ALTER INDEX sign_in_failures_last_failure_at RENAME TO attempt_counters_last_failure_at;
ALTER TABLE attempt_counters DROP CONSTRAINT sign_in_failures_kind_check;
-- Consecutive failures (growing waits, locked at 100): 'account' (wrong passwords at an account
-- address from browsers it does not recognise), 'browser' (wrong passwords from one browser the
-- account recognises), 'second_factor' (wrong codes of an account). Failures in a window:
-- 'client' (wrong passwords from one client address), 'step_up' (wrong answers at "Confirm it's
-- you" and wrong current passwords, per account), 'sign_up' (sign-ups from one client address).
ALTER TABLE attempt_counters ADD CONSTRAINT attempt_counters_kind_check
    CHECK (kind IN ('account', 'browser', 'second_factor', 'client', 'step_up', 'sign_up'));
-- The failure count at which a refusal was last written to the security log: a refusal is
-- logged once per failure, however often the refused party retries.
ALTER TABLE attempt_counters ADD COLUMN refusal_logged_at integer;

-- The key is SHA-256 of the kind, a zero byte and the subject (here the user id as text).
INSERT INTO attempt_counters (key, kind, failures, first_failure_at, last_failure_at)
SELECT sha256(convert_to('second_factor', 'UTF8') || '\x00'::bytea || convert_to(id::text, 'UTF8')),
       'second_factor', second_factor_failures, second_factor_last_failure_at,
       second_factor_last_failure_at
FROM users WHERE second_factor_failures > 0;
ALTER TABLE users DROP COLUMN second_factor_failures, DROP COLUMN second_factor_last_failure_at;

-- Browsers that have signed in to an account (OWASP "device cookies"): a long-lived HttpOnly
-- cookie, stored as SHA-256. The per-account waits and lock hold unknown browsers only, so
-- guessing at an address cannot keep its owner out of their own browser.
CREATE TABLE recognised_browsers (
    token_hash   bytea NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    PRIMARY KEY (token_hash, user_id)
);
CREATE INDEX recognised_browsers_user_id_idx ON recognised_browsers (user_id);
CREATE INDEX recognised_browsers_last_used_at_idx ON recognised_browsers (last_used_at);

-- The security log is append-only for the application: no entry is changed or taken back.
-- Deleting an account removes its entries through the foreign key's cascade, which runs
-- inside a trigger of its own (depth > 1) and is let through.
CREATE FUNCTION security_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'security_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER security_events_append_only
    BEFORE UPDATE OR DELETE ON security_events
    FOR EACH ROW EXECUTE FUNCTION security_events_append_only();
