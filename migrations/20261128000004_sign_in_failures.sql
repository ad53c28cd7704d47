-- Failed password sign-ins, counted to throttle guessing (NIST SP 800-63B §5.2.2, OWASP):
-- per account address ('account': consecutive failures, growing delays, locked at 100, cleared
-- by a success) and per client IP address ('client': failures in a 15-minute window, whatever
-- the account). Keyed by SHA-256 of the kind and the value, so an address without an account
-- is counted exactly like one with, and no address is stored in clear.
CREATE TABLE sign_in_failures (
    key              bytea PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('account', 'client')),
    -- 'account': consecutive wrong passwords. 'client': attempts in the window, counted before
    -- the check and taken back when the password was right.
    failures         integer NOT NULL CHECK (failures >= 0),
    -- 'account': attempts whose password is being checked right now, and when the latest began.
    -- Past a minute they are stale (a request lasts at most 30 s) and no longer count.
    in_flight        integer NOT NULL DEFAULT 0 CHECK (in_flight >= 0),
    in_flight_since  timestamptz,
    first_failure_at timestamptz,
    last_failure_at  timestamptz
);

CREATE INDEX sign_in_failures_last_failure_at ON sign_in_failures (last_failure_at);
