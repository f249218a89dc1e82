/**
 * Reads and validates the JSON config. Validation is strict and collects
 * every problem, so one run shows the user everything to fix.
 *
 * No message ever contains a string value from the config other than a
 * destination path, so a password cannot leak into logs.
 *
 * @module
 */

import { basename, dirname, posix, resolve, sep } from "node:path";
import {
  type Config,
  DEFAULT_OPTIONS,
  type FileEntry,
  type Options,
  type Secure,
  type ServerConfig,
} from "./types.ts";
import { normalizeDestination, parentDirs } from "../ftp/remote_path.ts";

/** One thing wrong with a config. */
export interface ConfigProblem {
  /**
   * Where: `server.port`, `files[12].destination`, or `(root)`, `(json)`,
   * `(file)` for the whole document, its syntax, or the file itself.
   */
  path: string;
  /** What is wrong and what to do. */
  message: string;
}

/**
 * Thrown for an invalid config. The message lists every problem, one per
 * line: `<configPath>: files[3].source: <what is wrong and what to do>`.
 */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  /** The config file the problems are in; "" when not known. */
  readonly configPath: string;

  constructor(problems: ConfigProblem[], configPath = "") {
    const prefix = configPath ? `${configPath}: ` : "";
    super(problems.map((p) => `${prefix}${p.path}: ${p.message}`).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
    this.configPath = configPath;
  }
}

const ROOT_KEYS = ["server", "options", "files"];
const SERVER_KEYS = [
  "host",
  "port",
  "user",
  "password",
  "passwordEnv",
  "secure",
];
const OPTION_KEYS = [
  "workers",
  "retries",
  "report",
  "atomic",
  "verify",
  "backoffBaseMs",
  "backoffMaxMs",
  "timeoutMs",
];
const FILE_KEYS = ["source", "destination"];
const MAX_BACKOFF_MS = 3_600_000;

/**
 * Parses and validates config text. `configPath` should be the absolute path
 * of the file: relative `source` and `report` paths resolve against its folder
 * (for a non-absolute value such as `<inline>`, against the current folder).
 *
 * @throws {ConfigError} listing every problem found.
 */
export function parseConfig(text: string, configPath: string): Config {
  const body = text.replace(/^\uFEFF/, ""); // editors on Windows add a BOM
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ConfigError(
      [{ path: "(json)", message: jsonErrorMessage(body) }],
      configPath,
    );
  }
  const r = new Reader();
  const root = r.object(json, "", ROOT_KEYS, "");
  if (root) {
    const dir = dirname(configPath);
    const server = readServer(r, root.server);
    const options = readOptions(r, root.options, dir);
    const files = readFiles(r, root.files, dir);
    if (r.problems.length === 0) return { configPath, server, options, files };
  }
  throw new ConfigError(r.problems, configPath);
}

/**
 * Reads the config file (UTF-8) at `path`, relative to the current folder.
 *
 * @throws {ConfigError} at `(file)` if it can't be read, or as
 * {@linkcode parseConfig} does.
 */
export async function loadConfig(path: string): Promise<Config> {
  const configPath = resolve(path);
  const fail = (message: string) => new ConfigError([{ path: "(file)", message }], configPath);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(configPath);
  } catch (e) {
    throw fail(
      e instanceof Deno.errors.NotFound
        ? "file not found; check the path"
        : `cannot read the file (${
          e instanceof Error ? e.message : e
        }); check that it is a readable file`,
    );
  }
  let text: string;
  try {
    // fatal: a config saved in a legacy encoding would otherwise turn
    // non-ASCII file names into U+FFFD silently.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fail("not valid UTF-8 text; save the file as UTF-8");
  }
  return parseConfig(text, configPath);
}

/**
 * The password to log in with: the value of `server.passwordEnv` when that
 * variable is set, else `server.password`, else `undefined` (no password).
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
  const fromEnv = name === undefined ? undefined : getEnv(name);
  const fail = (message: string) =>
    new ConfigError([{ path: "server.passwordEnv", message }], configPath);
  if (fromEnv !== undefined) {
    if (controlChar(fromEnv, false)) {
      throw fail(
        `the value of ${name} contains a line break or NUL; remove it`,
      );
    }
    return fromEnv;
  }
  if (server.password !== undefined || name === undefined) {
    return server.password;
  }
  throw fail(
    `environment variable ${name} is not set; export ${name}=<password> before running, or set server.password`,
  );
}

type Obj = Record<string, unknown>;
/** Returns what is wrong with a value, or `undefined` if it is fine. */
type Check = (value: unknown) => string | undefined;

/** Collects problems while reading values. */
class Reader {
  readonly problems: ConfigProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** The object at `path`, with unknown keys reported; `undefined` if it is not one. */
  object(
    value: unknown,
    path: string,
    keys: string[],
    example: string,
  ): Obj | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.add(
        path || "(root)",
        path
          ? `must be an object like ${example}${got(value)}`
          : `the config must be a JSON object with "server", "files" and optionally "options"${
            got(value)
          }`,
      );
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) {
        this.add(
          at(path, key),
          `unknown key; known keys are ${keys.join(", ")}`,
        );
      }
    }
    return value as Obj;
  }

  /**
   * `o[key]` if it passes `check`, else `fallback`. An absent key is a problem
   * only when `missing` says what to add.
   */
  get<T>(
    o: Obj,
    path: string,
    key: string,
    check: Check,
    fallback: T,
    missing?: string,
  ): T {
    const value = o[key];
    if (value === undefined) {
      if (missing) this.add(at(path, key), `missing; ${missing}`);
      return fallback;
    }
    const problem = check(value);
    if (problem) {
      this.add(at(path, key), problem);
      return fallback;
    }
    return value as T;
  }
}

function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** " (got …)" for messages; strings are never echoed, they may be secrets. */
function got(value: unknown): string {
  const shown = typeof value === "number" || typeof value === "boolean" ||
      value === null
    ? String(value)
    : typeof value === "string"
    ? "a string"
    : Array.isArray(value)
    ? "an array"
    : "an object";
  return ` (got ${shown})`;
}

/**
 * The first control character as "U+000A", if any. `strict` covers all of
 * C0 and DEL; otherwise only CR, LF and NUL, which break the FTP protocol.
 */
function controlChar(s: string, strict: boolean): string | undefined {
  // Fast path: one regex scan; the loop below only runs to name the character.
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  if (!(strict ? /[\x00-\x1f\x7f]/ : /[\r\n\0]/).test(s)) return undefined;
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (
      strict ? code < 0x20 || code === 0x7f : c === "\r" || c === "\n" ||
        c === "\0"
    ) {
      return "U+" + code.toString(16).toUpperCase().padStart(4, "0");
    }
  }
  return undefined;
}

function all(...checks: Check[]): Check {
  return (value) => {
    for (const check of checks) {
      const problem = check(value);
      if (problem) return problem;
    }
    return undefined;
  };
}

function text(strict = true, allowEmpty = false): Check {
  return (value) => {
    if (typeof value !== "string") return `must be a string${got(value)}`;
    if (!allowEmpty && value === "") return "must not be empty";
    const c = controlChar(value, strict);
    return c
      ? `must not contain control characters such as line breaks or tabs (found ${c}); remove it`
      : undefined;
  };
}

function integer(min: number, max: number, note = ""): Check {
  return (value) =>
    Number.isInteger(value) && (value as number) >= min &&
      (value as number) <= max
      ? undefined
      : `must be an integer from ${min} to ${max}${note}${got(value)}`;
}

const boolean: Check = (value) =>
  typeof value === "boolean" ? undefined : `must be true or false${got(value)}`;

function oneOf(values: unknown[], wording: string): Check {
  return (value) =>
    values.includes(value) ? undefined : `must be ${wording}${
      // "(got a string)" would be misleading for a misspelt value.
      typeof value === "string" ? "" : got(value)}`;
}

const hostCheck: Check = (value) =>
  /\s/.test(value as string)
    ? "must not contain spaces; write just the host name, e.g. ftp.example.com"
    : (value as string).includes("/")
    ? 'must be a bare host name or IP address without "ftp://" or a path, e.g. ftp.example.com'
    : undefined;

const envNameCheck: Check = (value) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(value as string)
    ? undefined
    : "must be an environment variable name: letters, digits and _, not starting with a digit (e.g. FTP_PASSWORD)";

function readServer(r: Reader, raw: unknown): ServerConfig {
  const p = "server";
  if (raw === undefined) {
    r.add(p, 'missing; add "server": { "host": "ftp.example.com" }');
    return { host: "", port: 21, secure: false };
  }
  const o = r.object(raw, p, SERVER_KEYS, '{ "host": "ftp.example.com" }');
  if (!o) return { host: "", port: 21, secure: false };
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
  const port = r.get(
    o,
    p,
    "port",
    integer(1, 65535),
    secure === "implicit" ? 990 : 21,
  );
  const server: ServerConfig = { host, port, secure };
  const user = r.get<string | undefined>(o, p, "user", text(), undefined);
  // Empty passwords exist, and tabs are legal in them; CR/LF/NUL are not.
  const password = r.get<string | undefined>(
    o,
    p,
    "password",
    text(false, true),
    undefined,
  );
  const passwordEnv = r.get<string | undefined>(
    o,
    p,
    "passwordEnv",
    all(text(), envNameCheck),
    undefined,
  );
  if (user !== undefined) server.user = user;
  if (password !== undefined) server.password = password;
  if (passwordEnv !== undefined) server.passwordEnv = passwordEnv;
  return server;
}

function readOptions(r: Reader, raw: unknown, dir: string): Options {
  const d = DEFAULT_OPTIONS;
  const p = "options";
  const o = raw === undefined ? {} : r.object(raw, p, OPTION_KEYS, '{ "workers": 4 }') ?? {};
  const workers = r.get(o, p, "workers", integer(1, 64), d.workers);
  const retries = r.get(o, p, "retries", integer(0, 100), d.retries);
  const report = r.get<string | undefined>(o, p, "report", text(), undefined);
  const atomic = r.get(o, p, "atomic", boolean, d.atomic);
  const verify = r.get<Options["verify"]>(
    o,
    p,
    "verify",
    oneOf(["size", "hash"], '"size" or "hash"'),
    d.verify,
  );
  const backoffBaseMs = r.get(
    o,
    p,
    "backoffBaseMs",
    integer(0, 600_000),
    d.backoffBaseMs,
  );
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
  const timeoutMs = r.get(
    o,
    p,
    "timeoutMs",
    integer(1000, 3_600_000),
    d.timeoutMs,
  );
  const options: Options = {
    workers,
    retries,
    atomic,
    verify,
    backoffBaseMs,
    backoffMaxMs,
    timeoutMs,
  };
  if (report !== undefined) options.report = resolve(dir, report);
  return options;
}

const sourceCheck: Check = (value) => {
  const s = value as string;
  return s.endsWith("/") || s.endsWith(sep) || [".", ".."].includes(basename(s))
    ? "must be a file, not a folder; list each file to upload"
    : undefined;
};

const destinationCheck: Check = (value) => {
  const d = value as string;
  const segments = d.split("/");
  if (!d.startsWith("/")) {
    return `must be an absolute remote path starting with "/", e.g. ${JSON.stringify("/" + d)}`;
  }
  if (segments.includes("..")) {
    return 'must not contain ".." segments; write the full path from "/"';
  }
  if (posix.normalize(d) === "/") {
    return 'must name a file, not the root folder; write "/<file name>"';
  }
  if (segments.at(-1) === ".") {
    return 'names a folder; end it with "/" to keep the source file name, or add a file name';
  }
  return undefined;
};

function readFiles(r: Reader, raw: unknown, dir: string): FileEntry[] {
  const example = '[{ "source": "docs/a.txt", "destination": "/incoming/a.txt" }]';
  if (raw === undefined) {
    r.add("files", `missing; add "files": ${example}`);
    return [];
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    r.add(
      "files",
      `must be a non-empty array like ${example}${
        Array.isArray(raw) ? " (got an empty array)" : got(raw)
      }`,
    );
    return [];
  }
  const entries: FileEntry[] = [];
  const owners = new Map<string, number>(); // destination -> first index
  raw.forEach((item: unknown, index) => {
    const p = `files[${index}]`;
    const o = r.object(item, p, FILE_KEYS, example.slice(1, -1));
    if (!o) return;
    const source = r.get<string | undefined>(
      o,
      p,
      "source",
      all(text(), sourceCheck),
      undefined,
      'add the local file path, e.g. "source": "docs/a.txt"',
    );
    const destination = r.get<string | undefined>(
      o,
      p,
      "destination",
      all(text(), destinationCheck),
      undefined,
      'add the remote file path, e.g. "destination": "/incoming/a.txt"',
    );
    if (source === undefined || destination === undefined) return;
    const remote = normalizeDestination(destination, source);
    const first = owners.get(remote);
    if (first === undefined) {
      owners.set(remote, index);
    } else {
      r.add(
        `${p}.destination`,
        `same destination as files[${first}] (${
          JSON.stringify(remote)
        }); give each file its own destination`,
      );
    }
    entries.push({
      index,
      sourceAsWritten: source,
      source: resolve(dir, source),
      destination: remote,
    });
  });
  for (const entry of entries) {
    for (const folder of parentDirs(entry.destination)) {
      const other = owners.get(folder);
      if (other !== undefined) {
        r.add(
          `files[${entry.index}].destination`,
          `is inside ${
            JSON.stringify(folder)
          }, which is the destination file of files[${other}]; a remote path can't be both a file and a folder, so change one of them`,
        );
      }
    }
  }
  return entries;
}

/**
 * "invalid JSON at line L, column C: <reason>". The location comes from
 * {@linkcode findJsonError}: V8's SyntaxError message has no position for
 * common mistakes such as a trailing comma, and it quotes the source text,
 * which may hold a password.
 */
function jsonErrorMessage(text: string): string {
  const error = findJsonError(text);
  if (!error) return "invalid JSON; check the syntax";
  const before = text.slice(0, error.offset);
  const line = before.split("\n").length;
  // Code points, as editors count them.
  const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
  return `invalid JSON at line ${line}, column ${column}: ${error.reason}`;
}

/**
 * Offset (UTF-16) and reason of the first JSON syntax error in `text`, or
 * `undefined` if there is none. Only called after `JSON.parse` failed.
 */
function findJsonError(
  text: string,
): { offset: number; reason: string } | undefined {
  let i = 0;
  class Stop {
    constructor(readonly reason: string) {}
  }
  const stop = (reason: string) => {
    throw new Stop(reason);
  };
  const skipSpace = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
    if (text[i] === "/") stop("comments are not allowed in JSON; remove it");
  };
  const string = () => {
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) stop('unterminated string; add the closing "');
      if (c === '"') {
        i++;
        return;
      }
      if (c < " ") {
        stop(
          "control character or line break inside a string; write it as \\n, \\t, ...",
        );
      }
      if (c !== "\\") {
        i++;
        continue;
      }
      i++;
      if (text[i] === "u") {
        for (let k = 0; k < 4; k++) {
          i++;
          if (!/[0-9a-fA-F]/.test(text[i] ?? "")) {
            stop("\\u must be followed by 4 hex digits");
          }
        }
      } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) {
        stop('invalid escape in a string; write a backslash as "\\\\"');
      }
      i++;
    }
  };
  const digits = () => {
    const start = i;
    while (text[i] >= "0" && text[i] <= "9") i++;
    return i > start;
  };
  // Positions match V8's where it gives one: at the first wrong character.
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (!digits()) stop("expected a digit");
    if (text[i] === ".") {
      i++;
      if (!digits()) stop("expected a digit after '.'");
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!digits()) stop("expected a digit in the exponent");
    }
  };
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '"') return string();
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      skipSpace();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        if (close === "}") {
          if (text[i] !== '"') {
            stop(
              "expected a property name in double quotes (no comma after the last property)",
            );
          }
          string();
          skipSpace();
          if (text[i] !== ":") stop("expected ':' after the property name");
          i++;
        } else if (text[i] === "]") {
          stop("expected a value (no comma after the last item)");
        }
        value();
        skipSpace();
        if (text[i] === close) {
          i++;
          return;
        }
        if (text[i] !== ",") {
          stop(
            text[i] === undefined
              ? `unexpected end of text; add the missing '${close}'`
              : `expected ',' or '${close}'; a comma may be missing`,
          );
        }
        i++;
      }
    }
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    for (const word of ["true", "false", "null"]) {
      if (c !== word[0]) continue;
      for (const expected of word) {
        if (text[i] !== expected) stop(`expected ${word}`);
        i++;
      }
      return;
    }
    stop(
      c === undefined
        ? "unexpected end of text; the file looks empty or cut off"
        : "expected a value: a string in double quotes, number, true, false, null, object or array",
    );
  };
  try {
    value();
    skipSpace();
    if (i < text.length) stop("unexpected text after the end of the JSON");
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return { offset: i, reason: e.reason };
    return undefined; // e.g. stack overflow on absurd nesting
  }
}
