/**
 * `server.encoding` end to end through the CLI (workers and all) against the
 * embedded server in `byteNames` mode: code-page bytes on the server, a name
 * the page lacks fails that file only, unsent, and bad settings are exit 2.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, withServer } from "./cli_process.ts";
import { nameBytes } from "../../src/server/embedded_server.ts";
import type { Report } from "../../src/report/report.ts";
import { integrationTest } from "../helpers/kit.ts";

const hex = (name: string) =>
  nameBytes(name).map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");

/** A config in a temp folder with one local file per destination; returns its path. */
async function writeConfig(
  server: Record<string, unknown>,
  destinations: string[],
): Promise<{ dir: string; configPath: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-enc-" });
  const files = [];
  for (const [i, destination] of destinations.entries()) {
    await Deno.writeTextFile(join(dir, `f${i}.txt`), `content ${i}\n`);
    files.push({ source: `f${i}.txt`, destination });
  }
  const configPath = join(dir, "ftpbatch.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({ server, options: { report: "report.json", retries: 1 }, files }),
  );
  return { dir, configPath };
}

integrationTest(
  "cp1251 server: byte names on the server, 日本.txt fails unsent, the rest upload",
  async () => {
    await withServer(async (server, root) => {
      const { dir, configPath } = await writeConfig(
        { host: server.host, port: server.port, user: "u", password: "pw", encoding: "cp1251" },
        ["/План.txt", "/Папка/Отчёт.txt", "/日本.txt", "/日本/a.txt"],
      );
      try {
        const r = await cli(["upload", configPath]);
        assert.equal(r.code, 1, r.stderr);
        const report: Report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
        assert.equal(report.server.encoding, "cp1251");
        // The report lists files in the order they were decided (version 2): look them up by name.
        const status = new Map(report.files.map((f) => [f.destination, f.status]));
        assert.deepEqual(
          ["/План.txt", "/Папка/Отчёт.txt", "/日本.txt", "/日本/a.txt"].map((d) => status.get(d)),
          ["uploaded", "uploaded", "failed", "failed"],
        );
        for (const f of report.files.filter((f) => f.status === "failed")) {
          assert.equal(f.attempts, 0);
          assert.equal(f.bytesSent, 0);
          assert.match(f.error!, /not representable in the server's encoding/);
          assert.match(f.error!, /"日" \(U\+65E5\) has no cp1251 code; nothing was sent/);
        }
        assert.match(r.stderr, /日本\.txt: name not representable/);
        // The bytes the server got for each name, and nothing else there.
        const names = [...Deno.readDirSync(root)].map((e) => hex(e.name)).sort();
        assert.deepEqual(names, ["CF E0 EF EA E0", "CF EB E0 ED 2E 74 78 74"]);
        const inner = [...Deno.readDirSync(join(root, "Ïàïêà"))].map((e) => hex(e.name));
        assert.deepEqual(inner, ["CE F2 F7 B8 F2 2E 74 78 74"]);
        assert.equal(await Deno.readTextFile(join(root, "Ïëàí.txt")), "content 0\n");
        const commands = server.stats.commands;
        assert.ok(server.stats.logins > 0);
        assert.ok(!commands.some((c) => /^OPTS UTF-?8/i.test(c)), commands.join("\n"));
        // Nothing at all for the two names cp1251 lacks: no folder, no mangled `?` name.
        assert.ok(!commands.some((c) => c.includes("?") || c.includes("日")), commands.join("\n"));
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }, { user: "u", password: "pw", byteNames: true });
  },
);

integrationTest(
  "server.encoding unknown, or a password cp1251 lacks: exit 2, nothing sent",
  async () => {
    await withServer(async (server) => {
      const base = { host: server.host, port: server.port, user: "u" };
      const unknown = await writeConfig({ ...base, password: "pw", encoding: "cp9999" }, ["/a"]);
      const secret = "pässwörd-日";
      const env = await writeConfig(
        { ...base, passwordEnv: "FTPBATCH_ENC_PW", encoding: "cp1251" },
        ["/a"],
      );
      try {
        const r = await cli(["upload", unknown.configPath]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /server\.encoding: unknown encoding; use "utf8"/);
        assert.ok(!r.stderr.includes("cp9999"), "the unknown value is not echoed");
        const p = await cli(["upload", env.configPath], { FTPBATCH_ENC_PW: secret });
        assert.equal(p.code, 2);
        assert.match(p.stderr, /server\.passwordEnv: the password has a character/);
        assert.ok(!p.stderr.includes("日") && !p.stderr.includes(secret));
        assert.deepEqual(server.stats.commands, []);
      } finally {
        await Deno.remove(unknown.dir, { recursive: true });
        await Deno.remove(env.dir, { recursive: true });
      }
    });
  },
);
