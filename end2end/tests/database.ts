import { execFileSync } from "node:child_process";

/**
 * Direct access to the throw-away database the server under test uses, for what a browser cannot
 * do in a test's time: letting time pass. scripts/test.sh passes the database's URL and the psql
 * of the PostgreSQL it provisioned.
 */
function psql(sql: string, variables: Record<string, string>): void {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL is not set: run the suite with scripts/test.sh e2e");
  const args = [url, "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1"];
  for (const [name, value] of Object.entries(variables)) args.push("-v", `${name}=${value}`);
  execFileSync(process.env.E2E_PSQL || "psql", args, { input: sql, stdio: ["pipe", "ignore", "inherit"] });
}

/**
 * Makes every session of the account look as if its password and second factor were last
 * checked `minutes` earlier than they were, as after a long break: the next sensitive change
 * asks to confirm it's you.
 */
export function ageAuthentication(email: string, minutes: number): void {
  psql(
    `UPDATE sessions
     SET authenticated_at = authenticated_at - make_interval(mins => :'minutes'::int),
         second_factor_at = second_factor_at - make_interval(mins => :'minutes'::int)
     WHERE user_id = (SELECT id FROM users WHERE email = :'email');`,
    { email, minutes: String(minutes) },
  );
}

/**
 * Sets the consecutive wrong passwords counted against the address (from browsers it does not
 * recognise) to `failures`, the last one now: what a longer guessing attack would leave. The
 * counter's key is SHA-256 of "account", a zero byte and the address in lower case.
 */
export function setFailedSignIns(email: string, failures: number): void {
  psql(
    `UPDATE attempt_counters SET failures = :'failures'::int, last_failure_at = now()
     WHERE key = sha256(convert_to('account', 'UTF8') || '\\x00'::bytea
                        || convert_to(lower(:'email'), 'UTF8'));`,
    { email, failures: String(failures) },
  );
}
