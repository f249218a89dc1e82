/**
 * Early TLS on FTPS data connections (`src/ftp/early_tls.ts`) on every
 * server of the matrix with TLS: what the probe learns (held on vsftpd,
 * pure-ftpd and the three ProFTPD configurations, whose data connections then
 * all start TLS with the connection; refused on pyftpdlib, which drops a data
 * connection whose ClientHello comes before the transfer command), every file
 * byte-exact and proven by its SIZE. And pyftpdlib with the probe skipped (as
 * if it had passed): the early handshake fails, the session is closed, the
 * file goes again on a new session with TLS after the `150`, exact. The
 * uploads run in a child process: the throwaway CA goes in by `DENO_CERT`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { MATRIX, realServerTest } from "../helpers/real_server.ts";
import { ftpsUploadChild, patternBytes, runTlsChild, withTempDir } from "../helpers/kit.ts";

/** An empty file, one that fits a TLS record, several records, and one of several MiB. */
const SIZES = [4096, 0, 300 * 1024, 3 * 1024 * 1024, 1];

/** The servers that drop a data connection whose ClientHello comes before the STOR. */
const DROPS_EARLY_HELLO = new Set(["pyftpdlib"]);

const SESSION = new URL("../../src/ftp/open_session.ts", import.meta.url).href;

/** One session, `SIZES` back to back; prints the SIZE proofs, what was learned, the counts. */
const MATRIX_CHILD = ftpsUploadChild(
  "{ sizesAfter, earlyTls: session.abilities.earlyTls, counts: session.transport.earlyTlsCounts }",
);

/**
 * A resume (REST, then STOR: the REST's round trip puts the ClientHello well before the
 * STOR) with early TLS as if the probe had passed; then the same on a new session with what
 * the first learned.
 */
const FALLBACK_CHILD = `
const { openSession } = await import(${JSON.stringify(SESSION)});
const [host, port, user, password, dir, size, offset] = JSON.parse(Deno.args[0]);
const login = () => openSession({ host, port, user, password, secure: true }, 15000);
const put = (s) => s.upload({ localPath: dir + "/r", remotePath: "/r", offset, method: "rest", size });
const first = await login();
first.abilities.earlyTls = true;
let error;
await put(first).catch((e) => (error = e.name));
const out = { error, closed: first.closed, learned: first.abilities.earlyTls };
first.close();
const again = await login();
again.abilities.earlyTls = out.learned;
const done = await put(again);
Object.assign(out, { sizeAfter: done.sizeAfter?.size, counts: again.transport.earlyTlsCounts });
console.log(JSON.stringify(out));
await again.quit();
`;

for (const entry of MATRIX) {
  const drops = DROPS_EARLY_HELLO.has(entry.name);
  realServerTest(
    `early TLS on ${entry.name} (FTPS): the probe ${
      drops ? "refused" : "held"
    }, every file byte-exact`,
    { ...entry.options, tls: true },
    async (server) => {
      await withTempDir("ftpbatch-early-tls-", async (dir) => {
        const files = SIZES.map((n, i) => patternBytes(n, i));
        for (const [i, bytes] of files.entries()) await Deno.writeFile(join(dir, `f${i}`), bytes);
        const args = [server.host, server.port, server.user, server.password, dir, SIZES];
        const out = await runTlsChild(MATRIX_CHILD, server.dir, args);
        const begun = drops ? 0 : SIZES.length;
        assert.deepEqual(out, {
          sizesAfter: SIZES,
          earlyTls: !drops,
          counts: { held: drops ? 0 : 1, refused: drops ? 1 : 0, begun },
        });
        for (const [i, bytes] of files.entries()) {
          assert.deepEqual(await Deno.readFile(join(server.root, `f${i}`)), bytes, `f${i}`);
        }
      });
    },
  );
}

realServerTest(
  "early TLS on pyftpdlib without the probe: handshake dropped, session closed, the file again, exact",
  { kind: "pyftpdlib", tls: true },
  async (server) => {
    await withTempDir("ftpbatch-early-tls-", async (dir) => {
      const bytes = patternBytes(200_000, 5);
      const offset = 50_000;
      await Deno.writeFile(join(dir, "r"), bytes);
      // The part the server already has, owned by the FTP user so it may append to it.
      await Deno.writeFile(join(server.root, "r"), bytes.subarray(0, offset));
      await server.seedOwner(join(server.root, "r"));
      const args = [server.host, server.port, server.user, server.password, dir, bytes.length];
      const out = await runTlsChild(FALLBACK_CHILD, server.dir, [...args, offset]);
      assert.deepEqual(out, {
        error: "EarlyTlsRefused",
        closed: true,
        learned: false,
        sizeAfter: bytes.length,
        counts: { held: 0, refused: 0, begun: 0 },
      });
      assert.deepEqual(await Deno.readFile(join(server.root, "r")), bytes);
    });
  },
);
