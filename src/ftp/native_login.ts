/**
 * Opening a plain-FTP session on Deno's TCP: connect, greeting, login
 * (USER and PASS in one write), `OPTS UTF8 ON`, binary mode and FEAT, then a
 * `Session` over a `NativeTransport` (`native_transport.ts`).
 *
 * @module
 */

import type { FtpLogin } from "./login.ts";
import { Code, isNegative } from "./codes.ts";
import { Control, timed } from "./control.ts";
import { isUtf8, legacyCodec, passwordUnencodable, UnencodableName } from "./encoding.ts";
import { FTPError } from "./errors.ts";
import { parseFeatures, type Reply } from "./reply.ts";
import { Session } from "./session.ts";
import { withoutPassword } from "./server_text.ts";
import { NativeTransport } from "./native_transport.ts";
import { Throttle } from "./bandwidth.ts";

/**
 * Connect, log in, `OPTS UTF8 ON` (any reply is fine; not sent to a server
 * configured with a legacy encoding), binary mode, FEAT.
 */
export async function openNativeSession(
  server: FtpLogin,
  timeoutMs: number,
): Promise<Session> {
  // Loaded only for a legacy code page; UTF-8 takes no code-page library at all.
  const codec = isUtf8(server.encoding) ? undefined : await legacyCodec(server.encoding!);
  const conn = await timed(
    Deno.connect({ hostname: server.host, port: server.port }),
    timeoutMs,
    "Timeout (control socket) while connecting",
  );
  conn.setNoDelay(true);
  const control = new Control(conn, timeoutMs, codec);
  try {
    // A `120` (ready in n minutes) may come first: `read` skips 1xx replies.
    const greeting = await control.read();
    if (isNegative(greeting.code)) throw new FTPError(greeting);
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
    control.loggedIn = true;
    // After the login, in one write. Servers that answer 5xx to OPTS still take UTF-8
    // names; its reply does not matter. A server in a legacy code page is not asked: it
    // could switch to UTF-8 for real.
    const replies = await control.sendAll([...(codec ? [] : ["OPTS UTF8 ON"]), "TYPE I", "FEAT"]);
    const [type, feat] = replies.slice(-2);
    if (isNegative(type.code)) throw new FTPError(type);
    const features = parseFeatures(feat);
    const transport = new NativeTransport(control, (conn.remoteAddr as Deno.NetAddr).hostname, {
      ...(server.bandwidth ? { throttle: new Throttle(server.bandwidth) } : {}),
      epsv: { epsv: server.epsv, learned: server.epsvLearned },
      ...(server.active
        ? { active: server.active, localHost: (conn.localAddr as Deno.NetAddr).hostname }
        : {}),
    });
    return new Session(transport, features);
  } catch (e) {
    control.close();
    // The login's replies may echo the password: kept out of the error here, and only here.
    throw withoutPassword(e, server.password);
  }
}
