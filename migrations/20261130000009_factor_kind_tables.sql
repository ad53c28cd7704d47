-- A second factor is one `factors` row for what every kind shares (owner, kind, label, state,
-- times, failed enrollment attempts) and one row in its kind's own table for what only that kind
-- has. Text-message phones, email addresses and passkey credentials get tables of their own,
-- instead of more nullable column families on `factors` checked at run time.
--
-- Deploying: this drops the old columns, so stop the previous version before migrating (a
-- process of it still running would fail every authenticator check, closed, until stopped).

-- `(id, kind)` is what a kind's table refers to, so that its rows can only belong to factors of
-- that kind.
ALTER TABLE factors ADD CONSTRAINT factors_id_kind_key UNIQUE (id, kind);

-- An authenticator app: its secret, sealed with AES-256-GCM under a key of the ring (never
-- stored in clear, the factor id as associated data), and the last accepted time step (a code
-- is accepted only for a later step, RFC 6238 §5.2).
CREATE TABLE totp_factors (
    factor_id  uuid PRIMARY KEY,
    kind       text NOT NULL DEFAULT 'totp' CHECK (kind = 'totp'),
    key_id     text NOT NULL,
    nonce      bytea NOT NULL,
    ciphertext bytea NOT NULL,
    last_step  bigint CHECK (last_step >= 0),
    FOREIGN KEY (factor_id, kind) REFERENCES factors (id, kind) ON DELETE CASCADE
);
-- `server --reseal` and `server --key-usage` look factors up by key.
CREATE INDEX totp_factors_key_id_idx ON totp_factors (key_id);

INSERT INTO totp_factors (factor_id, key_id, nonce, ciphertext, last_step)
SELECT id, totp_key_id, totp_nonce, totp_ciphertext, totp_last_step
FROM factors
WHERE kind = 'totp';

-- Dropping the columns drops the CHECK that tied them to the kind; the trigger below holds the
-- same rule across the two tables.
ALTER TABLE factors
    DROP COLUMN totp_key_id,
    DROP COLUMN totp_nonce,
    DROP COLUMN totp_ciphertext,
    DROP COLUMN totp_last_step;

-- Every authenticator has its secret: checked when the transaction commits, so the two rows can
-- be written one after the other, and again when a secret row goes without its factor.
CREATE FUNCTION totp_factor_has_its_secret() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked uuid;
BEGIN
    -- One branch per table: each reads its own row type.
    IF TG_TABLE_NAME = 'factors' THEN
        checked := NEW.id;
    ELSE
        checked := OLD.factor_id;
    END IF;
    IF EXISTS (SELECT 1 FROM factors f WHERE f.id = checked AND f.kind = 'totp')
       AND NOT EXISTS (SELECT 1 FROM totp_factors t WHERE t.factor_id = checked) THEN
        RAISE EXCEPTION 'authenticator % has no secret', checked
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER factors_totp_has_its_secret
    AFTER INSERT ON factors DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.kind = 'totp') EXECUTE FUNCTION totp_factor_has_its_secret();
CREATE CONSTRAINT TRIGGER totp_factors_secret_stays
    AFTER DELETE ON totp_factors DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION totp_factor_has_its_secret();
