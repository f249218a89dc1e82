/**
 * Issue 16 and issue 21 item 9: the password is kept out of what the server
 * says to the login, and nowhere else. With the password `ftp`, the tool's
 * own paths (`/srv/ftpsite/...`) and words stay as they are, on stderr and in
 * the report, while a server echoing the password at the login is still
 * redacted.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, integration, withServer } from "./cli_process.ts";
import { startFakeFtp, startScriptedServer } from "../helpers/scripted_server.ts";

const PASSWORD = "ftp";

async function site(dir: string, server: { host: string; port: number; user: string }) {
  const src = join(dir, "ftpsite");
  await Deno.mkdir(join(src, "ftp-docs"), { recursive: true });
  await Deno.writeTextFile(join(src, "ftp-docs", "ftp notes.txt"), "about ftp");
  await Deno.writeTextFile(join(src, "index.html"), "<h1>ftp</h1>");
  const configPath = join(dir, "ftpbatch.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      server: { ...server, passwordEnv: "FTP_PW" },
      options: { retries: 0, backoffBaseMs: 0, backoffMaxMs: 0 },
      files: [{ source: "ftpsite/", destination: "/ftpsite/" }],
    }),
  );
  return configPath;
}

Deno.test({
  name: 'password "ftp": the tool\'s paths and words are not blanked (stderr and report)',
  ...integration,
  async fn() {
    await withServer(async (server) => {
      const dir = await Deno.makeTempDir({ prefix: "ftpbatch-redact-" });
      const configPath = await site(dir, { host: server.host, port: server.port, user: "u" });
      const report = join(dir, "report.json");
      const r = await cli(
        ["upload", configPath, "--report", report, "--verbose"],
        { FTP_PW: PASSWORD },
      );
      assert.equal(r.code, 0, r.stderr);
      const text = await Deno.readTextFile(report);
      for (const [where, out] of [["stderr", r.stderr], ["report", text]]) {
        assert.ok(!out.includes("***"), `${where}: ${out}`);
      }
      assert.match(r.stderr, /\/ftpsite\/ftp-docs\/ftp notes\.txt/);
      assert.match(text, /\/ftpsite\/ftp-docs\/ftp notes\.txt/);
      await Deno.remove(dir, { recursive: true });
    }, { user: "u", password: PASSWORD });
  },
});

Deno.test({
  name: 'password "ftp": a server echoing it at the login is still redacted, paths kept',
  ...integration,
  async fn() {
    const server = startScriptedServer(async (peer) => {
      await peer.reply("220 ready");
      await peer.expect("USER");
      await peer.reply("331 password please");
      const pass = await peer.expect("PASS");
      await peer.reply(`530 login refused: "${pass}" is not the ftp password`);
    });
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-redact-" });
    try {
      const configPath = await site(dir, { host: "127.0.0.1", port: server.port, user: "u" });
      const report = join(dir, "report.json");
      const r = await cli(["upload", configPath, "--report", report], { FTP_PW: PASSWORD });
      assert.equal(r.code, 3, r.stderr);
      const text = await Deno.readTextFile(report);
      assert.match(r.stderr, /login refused: "\*\*\*" is not the \*\*\* password/, r.stderr);
      for (const [where, out] of [["stderr", r.stderr], ["report", text]]) {
        assert.match(out, /\/ftpsite\/ftp-docs\/ftp notes\.txt/, where);
        assert.ok(!/"ftp"|the ftp password/.test(out), `${where}: ${out}`);
      }
    } finally {
      await server.close().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: 'password "ftp": a server echoing it after the login (a refused STOR): redacted there only',
  ...integration,
  async fn() {
    const server = startFakeFtp({
      on: { STOR: (_arg, peer) => peer.reply(`553 Cannot store (pass ${PASSWORD})`) },
    });
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-redact-" });
    try {
      const configPath = await site(dir, { host: "127.0.0.1", port: server.port, user: "u" });
      const report = join(dir, "report.json");
      const r = await cli(
        ["upload", configPath, "--report", report, "--verbose", "--skip", "none"],
        { FTP_PW: PASSWORD },
      );
      assert.equal(r.code, 1, r.stderr);
      const text = await Deno.readTextFile(report);
      for (const [where, out] of [["stderr", r.stderr], ["report", text]]) {
        assert.match(out, /553 Cannot store \(pass \*\*\*\)/, where);
        assert.match(out, /\/ftpsite\/ftp-docs\/ftp notes\.txt/, where);
        assert.ok(!/pass ftp/.test(out), `${where}: ${out}`);
      }
    } finally {
      await server.close().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
