/**
 * Opening a session on the native transport: connect (plain FTP on Deno's
 * TCP; FTPS as `native_ftps.ts` opens it), greeting, login (USER and PASS in
 * one write), `OPTS UTF8 ON`, binary mode and FEAT (after FTPS's `PBSZ 0`
 * and `PROT P`, in the same write), then a `Session` over a
 * `NativeTransport` (`native_transport.ts`).
 *
 * @module
 */

import type { FtpLogin } from "./login.ts";
import { Code, isNegative } from "./codes.ts";
import { Control, timed } from "./control.ts";
import type { ByteStream, DataLink } from "./byte_stream.ts";
import {
  type Codec,
  isUtf8,
  legacyCodec,
  passwordUnencodable,
  UnencodableName,
} from "./encoding.ts";
import { FTPError } from "./errors.ts";
import { parseFeatures, type Reply } from "./reply.ts";
import { Session } from "./session.ts";
import { withoutPassword } from "./server_text.ts";
import { NativeTransport } from "./native_transport.ts";
import { Throttle } from "./bandwidth.ts";
import { greetingQuirks } from "./abilities.ts";

/**
 * An opened control connection: plain Deno TCP here, or FTPS (`native_ftps.ts`, loaded only
 * for FTPS), with what the login adds for it.
 */
export interface ControlOpening {
  stream: ByteStream;
  /** The server's address as connected: data connections go there. */
  remoteHost: string;
  /** The local address (active mode listens there). */
  localHost?: string;
  /** After the greeting, before the login (`AUTH TLS`). */
  afterGreeting?(control: Control): Promise<void>;
  /** Sent first in the write after the login (`PBSZ 0`, `PROT P`); each must be accepted. */
  afterLogin?: string[];
  /** How data connections are made when not on Deno's TCP (FTPS). */
  data?: DataLink;
}

/** A plain-FTP control connection on Deno's TCP. */
async function openPlain(server: FtpLogin, timeoutMs: number): Promise<ControlOpening> {
  const conn = await timed(
    Deno.connect({ hostname: server.host, port: server.port }),
    timeoutMs,
    "Timeout (control socket) while connecting",
  );
  conn.setNoDelay(true);
  return {
    stream: conn,
    remoteHost: (conn.remoteAddr as Deno.NetAddr).hostname,
    localHost: (conn.localAddr as Deno.NetAddr).hostname,
  };
}

/**
 * Connect (plain, unless `opening` says how), log in, `OPTS UTF8 ON` (any reply is fine;
 * not sent to a server configured with a legacy encoding), binary mode, FEAT.
 */
export async function openNativeSession(
  server: FtpLogin,
  timeoutMs: number,
  opening?: ControlOpening,
): Promise<Session> {
  // Loaded only for a legacy code page; UTF-8 takes no code-page library at all.
  const codec = isUtf8(server.encoding) ? undefined : await legacyCodec(server.encoding!);
  const opened = opening ?? await openPlain(server, timeoutMs);
  const control = new Control(opened.stream, timeoutMs, codec);
  try {
    // A `120` (ready in n minutes) may come first: `read` skips 1xx replies.
    const greeting = await control.read();
    if (isNegative(greeting.code)) throw new FTPError(greeting);
    await opened.afterGreeting?.(control);
    await logIn(control, server, codec);
    control.loggedIn = true;
    // After the login, in one write. Servers that answer 5xx to OPTS still take UTF-8
    // names; its reply does not matter. A server in a legacy code page is not asked: it
    // could switch to UTF-8 for real.
    const first = opened.afterLogin ?? [];
    const replies = await control.sendAll([
      ...first,
      ...(codec ? [] : ["OPTS UTF8 ON"]),
      "TYPE I",
      "FEAT",
    ]);
    for (const r of replies.slice(0, first.length)) if (isNegative(r.code)) throw new FTPError(r);
    const [type, feat] = replies.slice(-2);
    if (isNegative(type.code)) throw new FTPError(type);
    const features = parseFeatures(feat);
    const transport = new NativeTransport(control, opened.remoteHost, {
      ...(server.bandwidth ? { throttle: new Throttle(server.bandwidth) } : {}),
      epsv: { epsv: server.epsv, learned: server.epsvLearned },
      ...(server.active ? { active: server.active, localHost: opened.localHost } : {}),
      ...(opened.data ? { data: opened.data } : {}),
    });
    const session = new Session(transport, features);
    Object.assign(session.abilities, greetingQuirks(greeting.message));
    return session;
  } catch (e) {
    control.close();
    // The login's replies may echo the password: kept out of the error here, and only here.
    throw withoutPassword(e, server.password);
  }
}

/** USER and PASS; throws FTPError when refused. */
async function logIn(control: Control, server: FtpLogin, codec: Codec | undefined): Promise<void> {
  const user = server.user ?? "anonymous";
  const password = server.password ?? (server.user ? "" : "anonymous@");
  const needsPassword = (r: Reply) => r.code === Code.UsernameOk || r.code === Code.NeedAccount;
  let reply: Reply;
  if (!codec) {
    // USER and PASS in one write (a round trip less per connection). The USER reply is
    // read first: a refusal (421 "too many") is reported as such; a server that logs in
    // on USER alone answers the PASS with some reply that is read and not needed.
    await control.write(`USER ${user}`, `PASS ${password}`);
    reply = await control.read();
    const pass = await control.read().catch((e) => {
      if (isNegative(reply.code)) return reply;
      throw e;
    });
    if (needsPassword(reply)) reply = pass;
  } else {
    reply = await control.send(`USER ${user}`);
    if (needsPassword(reply)) {
      reply = await control.send(`PASS ${password}`).catch((e) => {
        throw e instanceof UnencodableName ? passwordUnencodable(codec) : e;
      });
    }
  }
  if (isNegative(reply.code)) throw new FTPError(reply);
}
