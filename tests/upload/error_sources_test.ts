/**
 * Errors classified once, where they are met: vsftpd's `500 OOPS:` with the
 * connection closed is the session dying (retried on a new connection), an
 * SSH banner is not an FTP server (said at once, never retried), a name FTP
 * cannot carry fails at once without a try. Against the scripted fake server.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { ShrinkRequest } from "../../src/upload/uploader.ts";
import type { UploadJob } from "../../src/upload/job.ts";
import { classifyError, SSH_SERVER, toConnectError } from "../../src/upload/retry.ts";
import { FTPError, ProtocolError } from "../../src/ftp/errors.ts";
import {
  type FakeFtpOptions,
  startFakeFtp,
  startScriptedServer,
} from "../helpers/scripted_server.ts";
import { integration, randomSource, testUploader } from "../helpers/kit.ts";

async function withFile<T>(fn: (job: UploadJob, bytes: Uint8Array) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-src-" });
  try {
    const { source, bytes, mtimeMs } = await randomSource(dir, "a.bin", 4000);
    return await fn({
      id: 1,
      source,
      destination: "/a.bin",
      size: bytes.length,
      mtimeMs,
      fresh: true,
    }, bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function uploaderFor(login: ReturnType<typeof startFakeFtp>["login"]) {
  return testUploader(login);
}

Deno.test("classify: vsftpd's 500 OOPS is the session dying (reconnect); an SSH banner is no FTP server", () => {
  assert.equal(
    classifyError(new FTPError({ code: 500, message: "500 OOPS: priv_sock_get_int" })),
    "reconnect",
  );
  assert.equal(classifyError(new FTPError({ code: 500, message: "500 Unknown command" })), "fatal");
  const ssh = toConnectError(
    new ProtocolError("unreadable reply (control socket): SSH-2.0-OpenSSH_9.6p1 Ubuntu-3"),
    (e) => (e as Error).message,
  );
  assert.equal(ssh.kind, "notFtp");
  assert.ok(ssh.message.startsWith(SSH_SERVER), ssh.message);
  assert.equal(classifyError(ssh), "fatal");
});

Deno.test({
  name:
    "500 OOPS: priv_sock_get_int and a close during STOR: retried on a new connection, uploaded",
  ...integration,
  async fn() {
    let oops = 0;
    const options: FakeFtpOptions = {
      on: {
        STOR: async (_arg, peer) => {
          if (oops++ > 0) return false;
          // vsftpd's die(): the reply, then the process exits.
          await peer.reply("500 OOPS: priv_sock_get_int");
          peer.close();
        },
      },
    };
    const server = startFakeFtp(options);
    try {
      await withFile(async (job, bytes) => {
        const up = uploaderFor(server.login);
        const r = await up.upload(job);
        await up.close();
        assert.equal(r.status, "uploaded", r.error);
        assert.equal(r.attempts, 2);
        assert.deepEqual(server.files.get("/a.bin"), bytes);
        assert.equal(server.commands.filter((c) => c.startsWith("PASS")).length, 2);
      });
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "a destination with CR or LF fails at once: no try, no command carrying it",
  ...integration,
  async fn() {
    const server = startFakeFtp();
    try {
      await withFile(async (job) => {
        const up = uploaderFor(server.login);
        for (const name of ["/bad\r\nDELE x.bin", "/bad\nname.bin", "/nul\0.bin"]) {
          const r = await up.upload({ ...job, destination: name });
          assert.equal(r.status, "failed");
          assert.ok(r.attempts <= 1, `attempts ${r.attempts}`);
          assert.match(r.error ?? "", /CR, LF or NUL/);
        }
        const folders = await up.mkdirs(["/ok", "/b\nad"]);
        await up.close();
        assert.deepEqual(folders.created, ["/ok"]);
        assert.match(folders.failed[0]?.error ?? "", /CR, LF or NUL/);
        assert.deepEqual(server.commands.filter((c) => /STOR|RNFR|SIZE|DELE/.test(c)), []);
      });
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "a port that speaks SSH: named as an SSH/SFTP server at once, exit 3, one connection",
  ...integration,
  async fn() {
    const server = startScriptedServer(async (peer) => {
      await peer.raw("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n");
      await peer.next(); // an SSH server waits for the client's banner
    });
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-ssh-" });
    try {
      await Deno.writeTextFile(join(dir, "a.txt"), "hello");
      const { host, port } = server.login;
      await Deno.writeTextFile(
        join(dir, "config.json"),
        JSON.stringify({
          server: { host, port, user: "u", passwordEnv: "FTPBATCH_TEST_PW" },
          options: { retries: 5, backoffBaseMs: 200, backoffMaxMs: 1000, workers: 3 },
          files: [{ source: "a.txt", destination: "/a.txt" }],
        }),
      );
      const logged: string[] = [];
      const started = performance.now();
      const outcome = await runUpload({
        config: await loadConfig(join(dir, "config.json")),
        password: "p",
        log: (l) => logged.push(l),
      });
      // A bound for liveness, not speed: five tries with their pauses would take longer.
      assert.ok(performance.now() - started < 10_000);
      assert.equal(outcome.exitCode, 3);
      const f = outcome.report.files[0];
      assert.equal(f.status, "failed");
      assert.ok(f.attempts <= 1);
      assert.ok(
        [...logged, outcome.connectError ?? "", f.error ?? ""].some((t) => t.includes(SSH_SERVER)),
        JSON.stringify({ logged, report: outcome.connectError, error: f.error }),
      );
      assert.equal(server.peers.length, 1, "one connection, never retried");
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a server gone for longer than the outage window: the file is handed back, not failed",
  ...integration,
  async fn() {
    const server = startFakeFtp();
    await withFile(async (job, bytes) => {
      const up = testUploader(server.login, { retries: 2, timeoutMs: 2000, outageWindowMs: 200 });
      const first = await up.upload(job);
      assert.equal(first.status, "uploaded", first.error);
      assert.deepEqual(server.files.get("/a.bin"), bytes);
      await server.close(); // nothing listens there any more
      // Every later file would spend its tries the same way: the connection ends instead.
      const gone = await up.upload({ ...job, id: 2, destination: "/b.bin" }).catch((e) => e);
      assert.ok(gone instanceof ShrinkRequest, String(gone));
      assert.equal(gone.reason, "unreachable");
      assert.deepEqual(gone.jobs.map((j: UploadJob) => j.id), [2]);
      await up.close().catch(() => {});
    });
  },
});
