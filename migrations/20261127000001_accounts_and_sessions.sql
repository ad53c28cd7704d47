-- Accounts, server-side sessions and the security log.

CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The address as the person typed it (trimmed), for display.
    email               text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    -- Lower-cased in Rust, so case-insensitive uniqueness does not depend on the database locale.
    email_lookup        text NOT NULL UNIQUE,
    -- Argon2id PHC string; never leaves the server.
    password_hash       text NOT NULL,
    created_at          timestamptz NOT NULL,
    password_changed_at timestamptz NOT NULL
);

CREATE TABLE sessions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the 256-bit cookie token: a database leak does not reveal usable tokens.
    token_hash       bytea NOT NULL UNIQUE,
    -- 'password_only' while a second factor is pending; only 'full' sessions reach the app.
    level            text NOT NULL CHECK (level IN ('password_only', 'full')),
    created_at       timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    -- Last password or factor check, for step-up re-authentication.
    authenticated_at timestamptz NOT NULL,
    ip               text,
    user_agent       text
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_last_seen_at_idx ON sessions (last_seen_at);

CREATE TABLE security_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    ip          text,
    user_agent  text,
    -- Never holds a secret (password, token, code).
    details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX security_events_user_id_idx ON security_events (user_id, occurred_at DESC);
