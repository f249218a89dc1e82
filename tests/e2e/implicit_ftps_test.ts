/**
 * Implicit FTPS (`"secure": "implicit"`: TLS from the first byte) against
 * vsftpd (`implicit_ssl=YES`, `require_ssl_reuse=YES`) and proftpd
 * (`TLSOptions UseImplicitSSL`, data connections must resume the control
 * connection's session): a tree byte-exact on the first attempt, a resume
 * after the server was killed mid-file, an untrusted certificate fatal at
 * once, and a data connection whose TLS the server refuses (`522`) failing
 * with the server's reply instead of as a network error.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "basic-ftp";
import { BasicFtpTransport } from "../../src/ftp/basic_ftp_transport.ts";
import { Session } from "../../src/ftp/session.ts";
import { FTPError, PartialUploadError } from "../../src/ftp/errors.ts";
import { classifyError } from "../../src/upload/retry.ts";
import { listTree, makeUnicodeDataset } from "../helpers/dataset.ts";
import { restartMidFile } from "../helpers/partial.ts";
import { type RealServerOptions, realServerTest } from "../helpers/real_server.ts";
import {
  assertAllUploaded,
  assertTlsSessionsReused,
  RESTART_OPTIONS,
  runCli,
  serverSection,
} from "./matrix.ts";

const MiB = 1024 * 1024;

const KINDS: { name: string; options: RealServerOptions }[] = [
  { name: "vsftpd", options: { kind: "vsftpd", implicitTls: true } },
  // AllowStoreRestart: the configuration of proftpd that resumes (see MATRIX).
  {
    name: "proftpd",
    options: { kind: "proftpd", implicitTls: true, proftpd: ["AllowStoreRestart on"] },
  },
];

for (const { name, options } of KINDS) {
  realServerTest(
    `implicit FTPS, ${name}: untrusted certificate fatal at once; trusted: every file on the first attempt`,
    options,
    async (server) => {
      const data = await makeUnicodeDataset({
        server: { ...serverSection(server), secure: "implicit" },
        options: { workers: 3, report: "report.json", timeoutMs: 10_000, retries: 3 },
      });
      try {
        const started = Date.now();
        const untrusted = await runCli(server, data);
        assert.equal(untrusted.code, 3, untrusted.stderr);
        assert.match(untrusted.stderr, /DENO_CERT/);
        assert.ok(Date.now() - started < 30_000, "no retries for an untrusted certificate");
        assert.deepEqual(await listTree(server.root), []);

        const r = await runCli(server, data, { DENO_CERT: join(server.dir, "ca.pem") });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.report.server.secure, "implicit");
        await assertAllUploaded(server, data, r.report);
        // A refused data connection would cost an attempt and a reconnect: none.
        assert.equal(r.report.totals.reconnects, 0);
        for (const f of r.report.files) assert.equal(f.attempts, 1, f.destination);
        const log = await server.log();
        assert.match(log, /PROT P/);
        await assertTlsSessionsReused(server);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );

  realServerTest(
    `implicit FTPS, ${name}: killed and restarted mid-file, the upload resumes, identical`,
    { ...options, maxRate: 2 * MiB },
    async (server) => {
      const size = 8 * MiB;
      const data = await makeUnicodeDataset({
        server: { ...serverSection(server), secure: "implicit" },
        options: { ...RESTART_OPTIONS, report: "report.json" },
        sizeOf: (i) => (i === 0 ? size : 1000),
      });
      try {
        const run = runCli(server, data, { DENO_CERT: join(server.dir, "ca.pem") });
        const cut = await restartMidFile(server, 1 * MiB);
        const { code, stderr, report } = await run;
        assert.equal(code, 0, stderr);
        assert.ok(report.totals.reconnects >= 1);
        // The report file lists files as they finished, not in config order.
        const big = report.files.find((f: { size: number }) => f.size === size);
        assert.ok(big, JSON.stringify(report.files));
        if (cut < size) {
          assert.deepEqual(big.resumedFrom, [cut], JSON.stringify(big));
          assert.ok(big.bytesSent < 2 * size, `bytesSent ${big.bytesSent}`);
        }
        await assertAllUploaded(server, data, report);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );
}

realServerTest(
  "implicit FTPS, vsftpd: a data connection whose TLS is refused (522) fails with that reply, not as a network error",
  { kind: "vsftpd", implicitTls: true },
  async (server) => {
    // basic-ftp's own implicit connect (`tls.connect(port, host)`): in Deno 2.9.6 its session
    // cannot be resumed by a data connection, so vsftpd refuses every data connection with
    // 522 (the transport connects differently for that reason; this reproduces the refusal).
    const client = new Client(10_000);
    await client.access({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      secure: "implicit",
      secureOptions: { rejectUnauthorized: false, maxVersion: "TLSv1.2" },
    });
    const session = new Session(new BasicFtpTransport(client), new Map());
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-522-" });
    try {
      const local = join(dir, "f.bin");
      await Deno.writeFile(local, new Uint8Array(5000).fill(7));
      const started = Date.now();
      const err = await session.upload({
        localPath: local,
        remotePath: "/f.bin",
        offset: 0,
        method: "rest",
        size: 5000,
      }).then(
        () => assert.fail("the upload should have been refused"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof PartialUploadError, `a refused upload, got ${err}`);
      assert.ok(err.cause instanceof FTPError, `the server's reply, got ${err.cause}`);
      assert.equal(err.code, 522);
      assert.match(err.message, /SSL connection failed/);
      assert.equal(classifyError(err), "fatal", "not retried as a network failure");
      assert.ok(Date.now() - started < 10_000);
    } finally {
      session.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
