-- What a session has proved, beyond the password check at `authenticated_at`: when it last
-- passed a second factor (the sign-in challenge, "Confirm it's you" with a code, or the
-- enrollment it completed). NULL: never, as after a password-only sign-in, a sign-in through a
-- trusted browser, or a session from before this column. While an account has a second factor,
-- changing factors or the password needs this to be recent (OWASP MFA cheat sheet).
ALTER TABLE sessions ADD COLUMN second_factor_at timestamptz;
