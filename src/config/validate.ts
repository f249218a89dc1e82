/**
 * Validates a parsed config document. Strict, and it collects every problem,
 * so one run shows the user everything to fix (see `checks.ts` for what a
 * message may and may not show).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import {
  type Config,
  DEFAULT_OPTIONS,
  type Options,
  type Secure,
  type ServerConfig,
  SKIP_RULES,
  type SkipRule,
} from "./types.ts";
import { ConfigError } from "./errors.ts";
import {
  all,
  at,
  boolean,
  type Check,
  ENV_NAME,
  got,
  integer,
  oneOf,
  Reader,
  text,
} from "./checks.ts";
import { parseTimeZone } from "../ftp/time_zone.ts";
import { readFiles } from "./files.ts";
import { checkEncoding } from "./encoding.ts";
import { hasGlobs, loadGlobs } from "./tree.ts";
import { UTF8 } from "../ftp/encoding.ts";
import {
  NETWORK_OPTION_KEYS,
  NETWORK_SERVER_KEYS,
  readBwlimit,
  readNetworkServer,
} from "./network.ts";

const ROOT_KEYS = ["server", "options", "files"];
const SERVER_KEYS = [
  "host",
  "port",
  "user",
  "password",
  "passwordEnv",
  "secure",
  "encoding",
  "listTimeZone",
  ...NETWORK_SERVER_KEYS,
];
const OPTION_KEYS = [
  "workers",
  "retries",
  "report",
  "lock",
  "atomic",
  "verify",
  "skip",
  "backoffBaseMs",
  "backoffMaxMs",
  "timeoutMs",
  ...NETWORK_OPTION_KEYS,
  "maxDelete",
  "remoteLock",
  "remoteLockTtlMs",
];
const MAX_BACKOFF_MS = 3_600_000;

/**
 * The config in `json`, validated. `configPath` should be the absolute path
 * of the file: relative `source` and `report` paths resolve against its folder.
 *
 * Async only for a legacy `server.encoding`: its code pages load on demand.
 *
 * @throws {ConfigError} listing every problem found.
 */
export async function validateConfig(json: unknown, configPath: string): Promise<Config> {
  if (hasGlobs(json)) await loadGlobs();
  const r = new Reader();
  const root = r.object(json, "", ROOT_KEYS, "");
  if (root) {
    const dir = dirname(configPath);
    const server = readServer(r, root.server);
    const options = readOptions(r, root.options, dir);
    const files = readFiles(r, root.files, dir);
    await checkEncoding(r, server, files);
    if (r.problems.length === 0) return { configPath, server, options, files };
  }
  throw new ConfigError(r.problems, configPath);
}

const hostCheck: Check = (value) =>
  /\s/.test(value as string)
    ? "must not contain spaces; write just the host name, e.g. ftp.example.com"
    : (value as string).includes("/")
    ? 'must be a bare host name or IP address without "ftp://" or a path, e.g. ftp.example.com'
    : undefined;

const envNameCheck: Check = (value) =>
  ENV_NAME.test(value as string)
    ? undefined
    : "must be an environment variable name: letters, digits and _, not starting with a digit (e.g. FTP_PASSWORD)";

const timeZoneCheck: Check = (value) =>
  typeof value === "string" && (value === "auto" || parseTimeZone(value) !== undefined)
    ? undefined
    : `must be "auto" (learn it from the server), "UTC", or an offset from UTC in quarter hours from "-12:00" to "+14:00", e.g. "+05:30"${
      typeof value === "string" ? "" : got(value)
    }`;

function readServer(r: Reader, raw: unknown): ServerConfig {
  const p = "server";
  if (raw === undefined) {
    r.add(p, 'missing; add "server": { "host": "ftp.example.com" }');
    return { host: "", port: 21, secure: false, encoding: UTF8 };
  }
  const o = r.object(raw, p, SERVER_KEYS, '{ "host": "ftp.example.com" }');
  if (!o) return { host: "", port: 21, secure: false, encoding: UTF8 };
  const host = r.get(
    o,
    p,
    "host",
    all(text(), hostCheck),
    "",
    'add the server name, e.g. "host": "ftp.example.com"',
  );
  const secure = r.get<Secure>(
    o,
    p,
    "secure",
    oneOf(
      [false, true, "implicit"],
      'false (plain FTP), true (explicit FTPS) or "implicit" (implicit FTPS)',
    ),
    false,
  );
  const port = r.get(o, p, "port", integer(1, 65535), secure === "implicit" ? 990 : 21);
  // Whether a code page of that name exists is `checkEncoding`'s part.
  const encoding = r.get(o, p, "encoding", text(), UTF8);
  const listTimeZone = r.get(o, p, "listTimeZone", timeZoneCheck, "auto");
  const server: ServerConfig = { host, port, secure, encoding };
  if (listTimeZone !== "auto") server.listTimeZone = listTimeZone;
  const user = r.get<string | undefined>(o, p, "user", text(), undefined);
  // Empty passwords exist, and tabs are legal in them; CR/LF/NUL are not.
  const password = r.get<string | undefined>(
    o,
    p,
    "password",
    text({ strict: false, allowEmpty: true, secret: true }),
    undefined,
  );
  // A password pasted here by mistake must not be shown either.
  const passwordEnv = r.get<string | undefined>(
    o,
    p,
    "passwordEnv",
    all(text({ secret: true }), envNameCheck),
    undefined,
  );
  if (user !== undefined) server.user = user;
  if (password !== undefined) server.password = password;
  if (passwordEnv !== undefined) server.passwordEnv = passwordEnv;
  readNetworkServer(r, o, p, server);
  return server;
}

function readOptions(r: Reader, raw: unknown, dir: string): Options {
  const d = DEFAULT_OPTIONS;
  const p = "options";
  const o = raw === undefined ? {} : r.object(raw, p, OPTION_KEYS, '{ "workers": 4 }') ?? {};
  const workers = r.get(o, p, "workers", integer(1, 64), d.workers);
  const retries = r.get(o, p, "retries", integer(0, 100), d.retries);
  const report = r.get<string | undefined>(o, p, "report", text(), undefined);
  const lock = r.get<string | undefined>(o, p, "lock", text(), undefined);
  const atomic = r.get(o, p, "atomic", boolean, d.atomic);
  const verify = r.get<Options["verify"]>(
    o,
    p,
    "verify",
    oneOf(["size", "hash"], '"size" or "hash"'),
    d.verify,
  );
  const skip = r.get<SkipRule>(
    o,
    p,
    "skip",
    oneOf([...SKIP_RULES], '"size+mtime", "size+newer", "size" or "none" (or "hash": by content)'),
    d.skip,
  );
  const backoffBaseMs = r.get(o, p, "backoffBaseMs", integer(0, 600_000), d.backoffBaseMs);
  const backoffMaxMs = r.get(
    o,
    p,
    "backoffMaxMs",
    integer(backoffBaseMs, MAX_BACKOFF_MS, " (not less than backoffBaseMs)"),
    d.backoffMaxMs,
  );
  // The default maximum can be below an explicit base; say so at the key the
  // user has to add.
  if (o.backoffMaxMs === undefined && backoffMaxMs < backoffBaseMs) {
    r.add(
      at(p, "backoffMaxMs"),
      `defaults to ${backoffMaxMs}, less than backoffBaseMs (${backoffBaseMs}); set it to an integer from ${backoffBaseMs} to ${MAX_BACKOFF_MS}`,
    );
  }
  const timeoutMs = r.get(o, p, "timeoutMs", integer(1000, 3_600_000), d.timeoutMs);
  const maxDelete = r.get<number | undefined>(o, p, "maxDelete", integer(0, 1e9), undefined);
  const remoteLock = r.get<string | true | undefined>(
    o,
    p,
    "remoteLock",
    remoteLockCheck,
    undefined,
  );
  const remoteLockTtlMs = r.get<number | undefined>(
    o,
    p,
    "remoteLockTtlMs",
    integer(1000, 7 * 86_400_000),
    undefined,
  );
  const options: Options = {
    workers,
    retries,
    atomic,
    verify,
    skip,
    backoffBaseMs,
    backoffMaxMs,
    timeoutMs,
  };
  if (remoteLockTtlMs !== undefined) options.remoteLockTtlMs = remoteLockTtlMs;
  if (maxDelete !== undefined) options.maxDelete = maxDelete;
  if (remoteLock !== undefined) options.remoteLock = remoteLock;
  if (report !== undefined) options.report = resolve(dir, report);
  if (lock !== undefined) options.lock = resolve(dir, lock);
  const bwlimit = readBwlimit(r, o, p);
  if (bwlimit !== undefined) options.bwlimit = bwlimit;
  return options;
}

/** `true`, or an absolute remote folder path (the lock folder itself). */
const remoteLockCheck: Check = (value) => {
  if (value === true) return undefined;
  if (typeof value !== "string" || !value.startsWith("/") || value === "/") {
    return 'must be true or an absolute remote folder path, e.g. "/site/.ftpbatch-lock"';
  }
  return /[\r\n\0]/.test(value) || value.split("/").includes("..")
    ? 'must not contain "..", CR, LF or NUL'
    : undefined;
};
