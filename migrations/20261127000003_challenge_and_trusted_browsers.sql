-- The second-factor challenge at sign-in: per-challenge and per-account attempt counters, and
-- browsers a person chose to trust.

-- Wrong codes entered in this half-authenticated session (level 'password_only').
ALTER TABLE sessions ADD COLUMN challenge_attempts integer NOT NULL DEFAULT 0;

-- Consecutive second-factor attempts that did not succeed, across all challenges (NIST SP
-- 800-63B §5.2.2: growing delays, locked at 100). Cleared by a success.
ALTER TABLE users
    ADD COLUMN second_factor_failures integer NOT NULL DEFAULT 0,
    ADD COLUMN second_factor_last_failure_at timestamptz;

CREATE TABLE trusted_browsers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the 256-bit cookie token.
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text,
    user_agent   text
);
CREATE INDEX trusted_browsers_user_id_idx ON trusted_browsers (user_id);

