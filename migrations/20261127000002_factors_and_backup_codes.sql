-- Second factors (authenticator apps now; SMS, email and WebAuthn later) and backup codes.

CREATE TABLE factors (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('totp', 'sms', 'email', 'webauthn')),
    label           text NOT NULL,
    -- 'pending' until the person proves the factor works; only 'active' factors sign in.
    state           text NOT NULL CHECK (state IN ('pending', 'active')),
    created_at      timestamptz NOT NULL,
    activated_at    timestamptz,
    last_used_at    timestamptz,
    -- A pending factor left behind by an abandoned wizard stops working at this time.
    expires_at      timestamptz,
    failed_attempts integer NOT NULL DEFAULT 0,
    -- TOTP secret, sealed with AES-256-GCM (never stored in clear), and the last accepted time
    -- step: a code is accepted only for a later step (RFC 6238 §5.2).
    totp_key_id     text,
    totp_nonce      bytea,
    totp_ciphertext bytea,
    totp_last_step  bigint,
    CHECK (kind <> 'totp' OR (totp_key_id IS NOT NULL AND totp_nonce IS NOT NULL
                              AND totp_ciphertext IS NOT NULL))
);
CREATE INDEX factors_user_id_idx ON factors (user_id);
-- One authenticator app per account; a replacement stays pending until verified.
CREATE UNIQUE INDEX factors_one_active_totp_idx ON factors (user_id)
    WHERE kind = 'totp' AND state = 'active';

CREATE TABLE backup_codes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- HMAC-SHA256 keyed with a server secret over the user id and the code.
    code_hash  bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX backup_codes_user_id_idx ON backup_codes (user_id);
