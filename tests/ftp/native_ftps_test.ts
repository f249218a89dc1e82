/**
 * FTPS on the native pipelined transport (`src/ftp/native_ftps.ts`) against
 * each real server with TLS: the session runs on `NativeTransport` (not
 * basic-ftp), files of 0 B, 4 KiB and 300 KiB land byte-exact with the
 * next file's EPSV prepared with each SIZE, proftpd logs every data
 * connection as resuming the control session, and an untrusted certificate
 * fails the login as a certificate error (fatal, never retried). The upload
 * runs in a child process: the throwaway CA is trusted through `DENO_CERT`,
 * which Deno reads at start-up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSession } from "../../src/ftp/open_session.ts";
import { toConnectError } from "../../src/upload/classify.ts";
import { realServerTest, type ServerKind } from "../helpers/real_server.ts";
import { assertTlsSessionsReused } from "../e2e/matrix.ts";
import { runTlsChild } from "../helpers/kit.ts";

const SIZES = [4096, 0, 300 * 1024];
const SESSION = new URL("../../src/ftp/open_session.ts", import.meta.url).href;

/** The child: one session, the files uploaded back to back; prints what it saw as JSON. */
const CHILD = `
const { openSession } = await import(${JSON.stringify(SESSION)});
const [host, port, user, password, dir, sizes] = JSON.parse(Deno.args[0]);
const session = await openSession({ host, port, user, password, secure: true }, 15000);
const out = { transport: session.transport.constructor.name, early: session.transport.earlyData, sizes: [] };
for (const [i, size] of sizes.entries()) {
  const localPath = dir + "/f" + i;
  const outcome = await session.upload({
    localPath, remotePath: "/f" + i, offset: 0, method: "rest", size,
    nextFollows: i < sizes.length - 1,
  });
  out.sizes.push(outcome.sizeAfter?.size);
}
await session.quit();
console.log(JSON.stringify(out));
`;

for (const kind of ["vsftpd", "pure-ftpd", "proftpd", "pyftpdlib"] as ServerKind[]) {
  realServerTest(
    `${kind} FTPS: native pipelined transport, files byte-exact, sessions resumed`,
    { kind, tls: true },
    async (server) => {
      const dir = await Deno.makeTempDir({ prefix: "ftpbatch-ftps-" });
      try {
        const files = SIZES.map((n, i) => {
          const bytes = new Uint8Array(n).map((_, j) => (j * 7 + i) & 0xff);
          Deno.writeFileSync(join(dir, `f${i}`), bytes);
          return bytes;
        });
        const args = [server.host, server.port, server.user, server.password, dir, SIZES];
        const out = await runTlsChild(CHILD, server.dir, args);
        assert.deepEqual(out, { transport: "NativeTransport", early: false, sizes: SIZES });
        for (const [i, bytes] of files.entries()) {
          assert.deepEqual(await Deno.readFile(join(server.root, `f${i}`)), bytes, `f${i}`);
        }
        await assertTlsSessionsReused(server);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

realServerTest(
  "vsftpd FTPS, certificate not trusted: the login fails as a certificate error",
  { tls: true },
  async (server) => {
    const login = { host: server.host, port: server.port, user: server.user };
    const e = await openSession({ ...login, password: server.password, secure: true }, 15000)
      .then(() => undefined, (e) => e);
    assert.ok(e instanceof Error, "the login succeeded without a trusted certificate");
    assert.equal(toConnectError(e, (x) => String(x)).kind, "certificate", String(e));
  },
);
