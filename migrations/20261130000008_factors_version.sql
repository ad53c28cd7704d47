-- Bumped by every change to an account's second factors (turning on, replacing, turning off), in
-- the change's own transaction. A sign-in decides whether a challenge is needed from the
-- version it read with the account, and starts its session only if the version is unchanged:
-- PostgreSQL re-checks that condition on the locked row after waiting for the change, so a
-- sign-in racing the owner's enrollment cannot leave a session without a second factor behind
-- the enrollment's "sign out everywhere else".
ALTER TABLE users ADD COLUMN factors_version bigint NOT NULL DEFAULT 0;
