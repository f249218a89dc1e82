/**
 * Commands trailing a STOR (`src/ftp/trailing.ts`) on every server of the
 * matrix: what the probe learns (held on vsftpd, pure-ftpd and the three
 * ProFTPD configurations; refused on pyftpdlib, which answers during the
 * transfer), the bytes on the server exact and every SIZE proof right, and,
 * with the probe skipped, that a server answering out of order (pyftpdlib)
 * costs a retry and never a wrong file. Over FTPS too: on basic-ftp nothing
 * trails; on the native TLS transport the same as over plain FTP.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { openSession } from "../../src/ftp/open_session.ts";
import type { NativeTransport } from "../../src/ftp/native_transport.ts";
import type { Session } from "../../src/ftp/session.ts";
import { PartialUploadError } from "../../src/ftp/errors.ts";
import { MATRIX, type RealServer, realServerTest } from "../helpers/real_server.ts";
import { ftpsUploadChild, patternBytes, runTlsChild, withTempDir } from "../helpers/kit.ts";

/** Sizes that take early data, one past it, and one whose data outlasts the replies' write. */
const SIZES = [4096, 1, 4096, 200_000, 3 * 1024 * 1024, 0];

/** The servers that answer commands during a transfer (pyftpdlib): trailing must stay off. */
const ANSWERS_DURING_TRANSFER = new Set(["pyftpdlib"]);

function login(server: RealServer): Promise<Session> {
  return openSession({ ...server, secure: false }, 15_000);
}

const trails = (s: Session) => (s.transport as NativeTransport).trails;

/** Uploads `SIZES` on one session, each file proven by the SIZE reply; the bytes checked. */
async function uploadAll(server: RealServer, session: Session, dir: string, tag: string) {
  for (const [i, size] of SIZES.entries()) {
    const local = join(dir, `${tag}${i}.bin`);
    const bytes = patternBytes(size, i);
    await Deno.writeFile(local, bytes);
    const out = await session.upload({
      localPath: local,
      remotePath: `/${tag}${i}.bin`,
      offset: 0,
      method: "rest",
      size,
      nextFollows: i < SIZES.length - 1,
    });
    assert.equal(out.sizeAfter?.size, size, `${tag}${i}: SIZE after the transfer`);
    assert.deepEqual(await Deno.readFile(join(server.root, `${tag}${i}.bin`)), bytes, `${tag}${i}`);
  }
}

for (const entry of MATRIX) {
  const during = ANSWERS_DURING_TRANSFER.has(entry.name);
  realServerTest(
    `trailing on ${entry.name}: the probe ${during ? "refused" : "held"}, every file byte-exact`,
    entry.options,
    async (server) => {
      await withTempDir("ftpbatch-trailing-", async (dir) => {
        const session = await login(server);
        try {
          await uploadAll(server, session, dir, "t");
          assert.equal(session.abilities.trailing, !during);
          // One probe; then SIZE trailed every later STOR where the server held the NOOP.
          assert.deepEqual(trails(session), { probe: 1, size: during ? 0 : SIZES.length - 1 });
          assert.equal(session.closed, false);
        } finally {
          await session.quit();
        }
      });
    },
  );

  realServerTest(
    `trailing on ${entry.name} without the probe: ${
      during ? "out of step, turned off, no wrong byte" : "held"
    }`,
    entry.options,
    async (server) => {
      await withTempDir("ftpbatch-trailing-", async (dir) => {
        const session = await login(server);
        session.abilities.trailing = true; // as if the probe had passed
        const local = join(dir, "x.bin");
        const bytes = patternBytes(4096, 9);
        await Deno.writeFile(local, bytes);
        const put = (s: Session, next: boolean) =>
          s.upload({
            localPath: local,
            remotePath: "/x.bin",
            offset: 0,
            method: "rest",
            size: 4096,
            nextFollows: next,
          });
        try {
          if (!during) {
            await uploadAll(server, session, dir, "h");
            assert.equal(session.abilities.trailing, true);
            assert.equal(trails(session).size, SIZES.length);
            return;
          }
          // pyftpdlib answers the SIZE and EPSV during the transfer (the EPSV cuts it): the
          // replies out of order end the session; the transfer counts as failed.
          await assert.rejects(put(session, true), PartialUploadError);
          assert.equal(session.abilities.trailing, false);
          assert.ok(session.closed);
        } finally {
          await session.quit();
        }
        // The file again on a new session, trailing off as learned: exact.
        const again = await login(server);
        again.abilities.trailing = false;
        try {
          const out = await put(again, false);
          assert.equal(out.sizeAfter?.size, 4096);
          assert.deepEqual(trails(again), { probe: 0, size: 0 });
        } finally {
          await again.quit();
        }
        assert.deepEqual(await Deno.readFile(join(server.root, "x.bin")), bytes);
      });
    },
  );
}

/** An FTPS upload of `SIZES` in a child process (the throwaway CA goes in by `DENO_CERT`). */
const FTPS_CHILD = ftpsUploadChild(
  "{ sizesAfter, trailing: session.abilities.trailing, trails: session.transport.trails }",
);

for (const kind of ["vsftpd", "pure-ftpd", "proftpd", "pyftpdlib"] as const) {
  const during = ANSWERS_DURING_TRANSFER.has(kind);
  realServerTest(
    `trailing over FTPS on ${kind}: bytes exact; where the transport trails, ${
      during ? "refused" : "held"
    }`,
    { kind, tls: true },
    async (server) => {
      await withTempDir("ftpbatch-trailing-ftps-", async (dir) => {
        const files = SIZES.map((n, i) => patternBytes(n, i));
        for (const [i, bytes] of files.entries()) await Deno.writeFile(join(dir, `f${i}`), bytes);
        const args = [server.host, server.port, server.user, server.password, dir, SIZES];
        const out = await runTlsChild(FTPS_CHILD, server.dir, args) as {
          sizesAfter: number[];
          trailing?: boolean;
          trails?: Record<string, number>;
        };
        assert.deepEqual(out.sizesAfter, SIZES);
        for (const [i, bytes] of files.entries()) {
          assert.deepEqual(await Deno.readFile(join(server.root, `f${i}`)), bytes, `f${i}`);
        }
        // basic-ftp (FTPS before the native TLS transport) trails nothing; the native one
        // learns per server as over plain FTP.
        if (out.trails) {
          assert.equal(out.trailing, !during);
          assert.deepEqual(out.trails, { probe: 1, size: during ? 0 : SIZES.length - 1 });
        } else assert.equal(out.trailing, undefined);
      });
    },
  );
}
