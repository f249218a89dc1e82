/**
 * Early TLS on FTPS data connections (`src/ftp/early_tls.ts`), against the
 * scripted server with a stand-in for the TLS step (`DataLink.secure`): how
 * the server takes a handshake begun before the `150` is played by the stand-in.
 * A server that holds it (the probe passes and the next transfers start TLS at
 * once), one that drops the connection (the probe sees it before the STOR
 * goes: a new data connection, TLS after the `150`; or, with the probe passed,
 * the session is closed and the file goes again on a new one), and one that
 * never answers the early handshake: the transfer ends within the handshake's
 * timeout, never hangs. Each time the bytes on the server are exact.
 */

import assert from "node:assert/strict";
import { openNativeSession } from "../../src/ftp/native_login.ts";
import type { NativeTransport } from "../../src/ftp/native_transport.ts";
import type { ByteStream, DataLink } from "../../src/ftp/byte_stream.ts";
import { EarlyTlsRefused } from "../../src/ftp/errors.ts";
import type { Session } from "../../src/ftp/session.ts";
import { type ScriptedServer, startFakeFtp } from "../helpers/scripted_server.ts";
import { put, withFile } from "./local_file.ts";

const TIMEOUT_MS = 1500;

/** How the stand-in server takes a ClientHello that comes before the transfer command. */
type Early = "holds" | "drops" | "silent";

/**
 * Data connections on Deno's TCP; `secure` plays the TLS handshake: the first one as
 * `early` says (each test makes its first handshake an early one), every later one works
 * (the connection as it is).
 */
class StandInLink implements DataLink {
  calls = 0;

  constructor(readonly early: Early) {}

  async connect(host: string, port: number): Promise<ByteStream> {
    return await Deno.connect({ hostname: host, port });
  }

  secure(raw: ByteStream): Promise<ByteStream> {
    if (this.calls++ > 0 || this.early === "holds") return Promise.resolve(raw);
    const fail = (message: string) => {
      try {
        raw.close(); // as node_stream.ts's secureSocket destroys the socket
      } catch { /* closed */ }
      return Promise.reject(new Error(message));
    };
    if (this.early === "drops") {
      return fail("Client network socket disconnected before secure TLS connection");
    }
    // Never answered: the handshake's own timeout ends it.
    return new Promise((_, reject) => {
      setTimeout(() => fail("Timeout (TLS handshake)").catch(reject), TIMEOUT_MS);
    });
  }
}

/** A server that keeps what each STOR sent. */
function serverFor(): ScriptedServer {
  return startFakeFtp();
}

async function login(server: ScriptedServer, link: StandInLink): Promise<Session> {
  const stream = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  return await openNativeSession(server.login, TIMEOUT_MS, {
    stream,
    remoteHost: "127.0.0.1",
    data: link,
  });
}

const counts = (s: Session) => (s.transport as NativeTransport).earlyTlsCounts;

Deno.test("early TLS: a server that holds the hello: probed once, then every STOR at once", async () => {
  const link = new StandInLink("holds");
  const server = serverFor();
  const session = await login(server, link);
  try {
    await withFile(4096, async (path, bytes) => {
      for (const name of ["/a", "/b", "/c"]) {
        const out = await put(session, path, name, bytes.length);
        assert.equal(out.sizeAfter?.size, bytes.length);
        assert.deepEqual(server.files.get(name), bytes);
      }
    });
    assert.equal(session.abilities.earlyTls, true);
    assert.deepEqual(counts(session), { held: 1, refused: 0, begun: 3 });
    assert.equal(link.calls, 3);
    // The probe's NOOPs came before the first STOR only (another NOOP trails that STOR:
    // trailing.ts's probe).
    const at = (name: string) => server.commands.indexOf(`STOR ${name}`);
    const probe = ["EPSV", "NOOP", "NOOP", "NOOP"];
    assert.deepEqual(server.commands.slice(at("/a") - probe.length, at("/a")), probe);
    assert.notEqual(server.commands[at("/b") - 1], "NOOP");
    assert.notEqual(server.commands[at("/c") - 1], "NOOP");
  } finally {
    session.close();
    await server.close();
  }
});

Deno.test("early TLS: the probe sees the connection dropped before any STOR: TLS after the 150", async () => {
  const link = new StandInLink("drops");
  const server = serverFor();
  const session = await login(server, link);
  try {
    await withFile(4096, async (path, bytes) => {
      for (const name of ["/a", "/b"]) {
        const out = await put(session, path, name, bytes.length);
        assert.equal(out.sizeAfter?.size, bytes.length);
        assert.deepEqual(server.files.get(name), bytes);
      }
    });
    assert.equal(session.abilities.earlyTls, false);
    assert.deepEqual(counts(session), { held: 0, refused: 1, begun: 0 });
    assert.equal(link.calls, 3);
    assert.equal(session.closed, false);
    // The dropped connection's EPSV, the NOOP, then a new EPSV for the first STOR.
    const first = server.commands.indexOf("STOR /a");
    assert.deepEqual(server.commands.slice(first - 3, first), ["EPSV", "NOOP", "EPSV"]);
  } finally {
    session.close();
    await server.close();
  }
});

for (const early of ["drops", "silent"] as const) {
  Deno.test(`early TLS: a handshake that ${early === "drops" ? "fails" : "is never answered"} after the probe passed: session closed, the file again, exact`, async () => {
    const link = new StandInLink(early);
    const server = serverFor();
    const session = await login(server, link);
    session.abilities.earlyTls = true; // as if the probe had passed
    try {
      await withFile(4096, async (path, bytes) => {
        const started = performance.now();
        await assert.rejects(put(session, path, "/a", bytes.length), EarlyTlsRefused);
        // Liveness only: ended by the handshake's timeout, not by the server.
        assert.ok(performance.now() - started < 30_000);
        assert.equal(session.abilities.earlyTls, false);
        assert.ok(session.closed, "the server may wait for a data connection: out of step");
        // The next session, with what the first learned: TLS after the 150, the file exact.
        const again = await login(server, link);
        again.abilities.earlyTls = session.abilities.earlyTls;
        try {
          const out = await put(again, path, "/a", bytes.length);
          assert.equal(out.sizeAfter?.size, bytes.length);
          assert.deepEqual(server.files.get("/a"), bytes);
          assert.deepEqual(counts(again), { held: 0, refused: 0, begun: 0 });
        } finally {
          again.close();
        }
      });
      assert.equal(link.calls, 2);
    } finally {
      session.close();
      await server.close();
    }
  });
}

Deno.test("a data connection that fails before the 150, the server then silent: the transfer ends", async () => {
  // EPSV names a port nobody listens on; the STOR gets its 150 and then nothing, as a server
  // waiting for the data connection does (pyftpdlib after dropping an early ClientHello).
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const server = startFakeFtp({
    on: {
      EPSV: (_arg, peer) => peer.reply(`229 Entering Extended Passive Mode (|||${port}|)`),
      STOR: async (_arg, peer) => {
        await peer.reply("150 ok to send data");
        await peer.next(); // until the client leaves
      },
    },
  });
  const session = await openNativeSession(server.login, TIMEOUT_MS);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await withFile(4096, async (path, bytes) => {
      const upload = put(session, path, "/a", bytes.length).then(() => "uploaded", () => "failed");
      // Liveness only: without a deadline on the final reply this waits forever.
      const hung = new Promise((r) => (timer = setTimeout(() => r("hung"), 30_000)));
      assert.equal(await Promise.race([upload, hung]), "failed");
    });
  } finally {
    clearTimeout(timer);
    session.close();
    await server.close();
  }
});

Deno.test("early TLS: a STOR refused while the early handshake waits is the file's failure, early TLS stays", async () => {
  const link = new StandInLink("silent");
  const server = startFakeFtp({ on: { STOR: (_arg, peer) => peer.reply("553 not allowed") } });
  const session = await login(server, link);
  session.abilities.earlyTls = true;
  try {
    await withFile(4096, async (path, bytes) => {
      await assert.rejects(put(session, path, "/a", bytes.length), (e: Error) => {
        assert.ok(!(e instanceof EarlyTlsRefused), e.message);
        assert.match(e.message, /553 not allowed/);
        return true;
      });
    });
    assert.equal(session.abilities.earlyTls, true);
    assert.equal(session.closed, false);
    assert.deepEqual(counts(session), { held: 0, refused: 0, begun: 1 });
  } finally {
    session.close();
    await server.close();
  }
});
