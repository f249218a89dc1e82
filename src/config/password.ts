/**
 * The password to log in with, from `server.passwordEnv` or `server.password`.
 * Its value is never part of any message; a variable name is echoed only when
 * it looks like one (a password pasted into `passwordEnv` must not be shown).
 *
 * @module
 */

import type { ServerConfig } from "./types.ts";
import { ConfigError } from "./errors.ts";
import { controlChar, ENV_NAME } from "./checks.ts";

/**
 * The value of `server.passwordEnv` when that variable is set, else
 * `server.password`, else `undefined` (no password).
 *
 * @throws {ConfigError} at `server.passwordEnv` when the variable is unset and
 * there is no `password`, or when its value contains CR, LF or NUL.
 */
export function resolvePassword(
  server: ServerConfig,
  getEnv: (name: string) => string | undefined,
  configPath = "",
): string | undefined {
  const name = server.passwordEnv;
  const fromEnv = name === undefined || !ENV_NAME.test(name) ? undefined : getEnv(name);
  const shown = name !== undefined && ENV_NAME.test(name) ? name : "named by server.passwordEnv";
  const fail = (message: string) =>
    new ConfigError([{ path: "server.passwordEnv", message }], configPath);
  if (fromEnv !== undefined) {
    if (controlChar(fromEnv, false)) {
      throw fail(`the value of ${shown} contains a line break or NUL; remove it`);
    }
    return fromEnv;
  }
  if (server.password !== undefined || name === undefined) return server.password;
  throw fail(
    ENV_NAME.test(name)
      ? `environment variable ${name} is not set; export ${name}=<password> before running, or set server.password`
      : "is not an environment variable name; put the name of the variable that holds the password here, or set server.password",
  );
}
