-- Failed password sign-ins, counted to throttle guessing (NIST SP 800-63B §5.2.2, OWASP):
-- per account address ('account': consecutive failures, growing delays, locked at 100, cleared
-- by a success) and per client IP address ('client': failures in a 15-minute window, whatever
-- the account). Keyed by SHA-256 of the kind and the value, so an address without an account
-- is counted exactly like one with, and no address is stored in clear.
CREATE TABLE sign_in_failures (
    key              bytea PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('account', 'client')),
    failures         integer NOT NULL CHECK (failures >= 0),
    -- Attempts whose password is being checked right now ('account' only): with the failures
    -- they may never pass the lock, so parallel guesses cannot overshoot it.
    in_flight        integer NOT NULL DEFAULT 0 CHECK (in_flight >= 0),
    first_failure_at timestamptz,
    last_failure_at  timestamptz
);

CREATE INDEX sign_in_failures_client_window ON sign_in_failures (first_failure_at)
    WHERE kind = 'client';
