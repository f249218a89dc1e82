/**
 * `server.encoding` against a real Debian server: vsftpd keeps a name as the
 * bytes it was sent, so a cp1251 upload must leave the bytes
 * `CF EB E0 ED 2E 74 78 74` on disk for `План.txt`, over plain FTP (the native
 * transport) and over FTPS (basic-ftp, its latin1 channel under TLS). A name
 * cp1251 lacks fails that file, nothing sent; vsftpd's log shows no
 * `OPTS UTF8`. Ignored where vsftpd cannot run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startRealServer } from "../helpers/real_server.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

function vsftpdUsable(): boolean {
  if (Deno.env.get("FTPBATCH_REAL_SERVER") === "required") return true; // fail, not skip
  try {
    return Deno.statSync("/usr/sbin/vsftpd").isFile && Deno.uid() === 0;
  } catch {
    return false;
  }
}

/**
 * The names in `dir` as raw bytes in hex: `ls` prints them as they are on disk
 * (Deno's own readDir would turn bytes that are not UTF-8 into U+FFFD).
 */
async function rawNames(dir: string): Promise<string[]> {
  const out = await new Deno.Command("ls", { args: ["-1", "-A", dir], stdout: "piped" }).output();
  assert.ok(out.success);
  const names: string[] = [];
  let start = 0;
  for (let i = 0; i < out.stdout.length; i++) {
    if (out.stdout[i] !== 0x0a) continue;
    names.push(
      Array.from(
        out.stdout.subarray(start, i),
        (b) => b.toString(16).toUpperCase().padStart(2, "0"),
      )
        .join(" "),
    );
    start = i + 1;
  }
  return names.sort();
}

for (const secure of [false, true]) {
  Deno.test({
    name: `real server (vsftpd${secure ? ", FTPS" : ""}): cp1251 names on disk as their bytes`,
    ignore: !vsftpdUsable(),
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const server = await startRealServer({ tls: secure });
      assert.ok(server, "vsftpd did not start");
      const dir = await Deno.makeTempDir({ prefix: "ftpbatch-enc-" });
      try {
        const destinations = ["/План.txt", "/Папка/Отчёт.txt", "/日本.txt"];
        const files = [];
        for (const [i, destination] of destinations.entries()) {
          await Deno.writeTextFile(join(dir, `f${i}`), `content ${i}\n`);
          files.push({ source: `f${i}`, destination });
        }
        const configPath = join(dir, "ftpbatch.json");
        await Deno.writeTextFile(
          configPath,
          JSON.stringify({
            server: {
              host: server.host,
              port: server.port,
              user: server.user,
              passwordEnv: "FTPB_PW",
              secure,
              encoding: "cp1251",
            },
            options: { workers: 2, retries: 0, report: "report.json" },
            files,
          }),
        );
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", MAIN, "upload", configPath],
          env: {
            NO_COLOR: "1",
            FTPB_PW: server.password,
            ...(secure ? { DENO_CERT: join(server.dir, "ca.pem") } : {}),
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 1, stderr);
        const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
        assert.deepEqual(
          report.files.map((f: { status: string }) => f.status),
          ["uploaded", "uploaded", "failed"],
        );
        assert.match(report.files[2].error, /"日" \(U\+65E5\) has no cp1251 code/);
        assert.deepEqual(await rawNames(server.root), [
          "CF E0 EF EA E0", // Папка
          "CF EB E0 ED 2E 74 78 74", // План.txt
        ]);
        const folder = await rawNames(join(server.root, "\u041F\u0430\u043F\u043A\u0430"))
          .catch(() => undefined);
        assert.equal(folder, undefined, "no UTF-8 folder was made");
        const log = await server.log();
        assert.ok(!/OPTS UTF-?8/i.test(log), "no OPTS UTF8 sent");
        assert.match(log, /STOR/);
        if (secure) assert.match(log, /PROT P/);
      } finally {
        await server.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
