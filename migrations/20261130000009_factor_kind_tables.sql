-- A second factor is one `factors` row for what every kind shares (owner, kind, label, state,
-- times, failed enrollment attempts) and one row in its kind's own table for what only that kind
-- has. Text-message phones, email addresses and passkey credentials get tables of their own,
-- instead of more nullable column families on `factors` checked at run time.

-- An authenticator app: its secret, sealed with AES-256-GCM under a key of the ring (never
-- stored in clear, the factor id as associated data), and the last accepted time step (a code
-- is accepted only for a later step, RFC 6238 §5.2).
CREATE TABLE totp_factors (
    factor_id  uuid PRIMARY KEY REFERENCES factors (id) ON DELETE CASCADE,
    key_id     text NOT NULL,
    nonce      bytea NOT NULL,
    ciphertext bytea NOT NULL,
    last_step  bigint
);
-- `server --reseal` and `server --key-usage` look factors up by key.
CREATE INDEX totp_factors_key_id_idx ON totp_factors (key_id);

INSERT INTO totp_factors (factor_id, key_id, nonce, ciphertext, last_step)
SELECT id, totp_key_id, totp_nonce, totp_ciphertext, totp_last_step
FROM factors
WHERE kind = 'totp';

-- Dropping the columns drops the CHECK that tied them to the kind.
ALTER TABLE factors
    DROP COLUMN totp_key_id,
    DROP COLUMN totp_nonce,
    DROP COLUMN totp_ciphertext,
    DROP COLUMN totp_last_step;
