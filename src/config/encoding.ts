/**
 * `server.encoding` checked against what it has to carry: the name must be a
 * code page that keeps ASCII as ASCII (FTP's commands are ASCII), and the
 * login and every destination must be representable in it.
 *
 * A destination the page cannot represent is that file's problem, not the
 * config's: the entry is marked (`unencodable`) and fails in the report
 * without anything being sent, while the other files upload. A user name or
 * password it cannot represent is the config's: no login could work.
 *
 * @module
 */

import type { FileEntry, ServerConfig } from "./types.ts";
import type { Reader } from "./checks.ts";
import { ConfigError } from "./errors.ts";
import { type Codec, isUtf8, loadCodec, UTF8 } from "../ftp/encoding.ts";

const EXAMPLES = '"cp1251", "koi8-r", "cp866", "gbk", "shift_jis" or "euc-kr"';

/**
 * Checks `server.encoding` (normalizing the UTF-8 spellings to `utf8`), the user
 * and password, and marks each destination the server's code page cannot represent.
 * Loads the code pages only for a legacy encoding.
 */
export async function checkEncoding(
  r: Reader,
  server: ServerConfig,
  files: FileEntry[],
): Promise<void> {
  if (isUtf8(server.encoding)) {
    server.encoding = UTF8;
    return;
  }
  const codec = await loadCodec(server.encoding);
  if (codec === "unknown") {
    // The value is not shown: an unknown string might be anything pasted there.
    r.add(
      "server.encoding",
      `unknown encoding; use "utf8" (the default) or a code page such as ${EXAMPLES}`,
    );
    return;
  }
  if (codec === "notAscii") {
    r.add(
      "server.encoding",
      `must keep ASCII characters as they are (FTP commands are ASCII), as code pages such as ${EXAMPLES} do; UTF-16, UTF-32 and UTF-7 do not`,
    );
    return;
  }
  const where = `the server's encoding (server.encoding ${codec.name})`;
  const user = server.user === undefined ? undefined : codec.unencodable(server.user);
  if (user) r.add("server.user", `cannot be sent in ${where}: ${user}`);
  if (server.password !== undefined && codec.unencodable(server.password)) {
    // Which character is not said: it is part of a secret.
    r.add("server.password", `has a character ${where} cannot represent`);
  }
  for (const entry of files) {
    const why = unencodableReason(codec, entry.destination);
    if (why) entry.unencodable = why;
  }
}

/** Why `destination` cannot be sent in `codec`'s page, in the report's words, or undefined. */
function unencodableReason(codec: Codec, destination: string): string | undefined {
  const why = codec.unencodable(destination);
  return why &&
    `name not representable in the server's encoding (server.encoding ${codec.name}): ` +
      `${why}; nothing was sent (rename the file, or check server.encoding)`;
}

/**
 * The same check for destinations made while the run goes (files walked
 * from folder sources); undefined for UTF-8, which represents every name.
 */
export async function destinationCheck(
  server: ServerConfig,
): Promise<((destination: string) => string | undefined) | undefined> {
  if (isUtf8(server.encoding)) return undefined;
  const codec = await loadCodec(server.encoding);
  return typeof codec === "string" ? undefined : (d) => unencodableReason(codec, d);
}

/**
 * A password from `server.passwordEnv` that the server's code page cannot
 * represent: a ConfigError at `server.passwordEnv` (no login could work).
 * Which character is never said.
 */
export async function checkPasswordEncoding(
  server: ServerConfig,
  password: string | undefined,
  configPath = "",
): Promise<void> {
  if (password === undefined || isUtf8(server.encoding)) return;
  const codec = await loadCodec(server.encoding);
  if (typeof codec !== "string" && codec.unencodable(password)) {
    throw new ConfigError([{
      path: server.passwordEnv === undefined ? "server.password" : "server.passwordEnv",
      message: `the password has a character the server's encoding ` +
        `(server.encoding ${codec.name}) cannot represent`,
    }], configPath);
  }
}
