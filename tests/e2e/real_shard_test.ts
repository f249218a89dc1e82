/**
 * Shards at the same time against a real Debian server (vsftpd on loopback),
 * through the command line as a scheduler starts them: every file stored
 * once, byte-identical, the shared folders created by whichever shard came
 * first, and the merged report complete. Ignored where vsftpd cannot run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compareTree, listTree, makeDataset } from "../helpers/dataset.ts";
import { realServerCase, startServer } from "../helpers/real_server.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const N = 3;
const FILES = 90;

async function cli(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test(
  ...realServerCase(
    "real server: 3 shards at the same time through the CLI, then merged: every file once",
  ),
  async () => {
    {
      const server = await startServer();
      const data = await makeDataset({
        count: FILES,
        server: { host: server.host, port: server.port, user: server.user, passwordEnv: "FTPB_PW" },
        options: { workers: 3 },
      });
      try {
        const report = (k: number) => join(data.dir, `shard-${k}.json`);
        const runs = await Promise.all(
          [...Array(N).keys()].map((k) =>
            cli(["upload", data.configPath, "--report", report(k), "--quiet"], {
              FTPB_PW: server.password,
              FTPBATCH_SHARD_COUNT: String(N),
              JOB_COMPLETION_INDEX: String(k),
            })
          ),
        );
        runs.forEach((r, k) => assert.equal(r.code, 0, `shard ${k}: ${r.stderr}`));
        assert.deepEqual(await compareTree(server.root, data.expected), []);
        assert.equal((await listTree(server.root)).length, FILES, "no temporary files left");
        const log = (await server.log()).split("\n");
        const stors = log.filter((l) => /FTP command: Client "[^"]+", "STOR /.test(l));
        assert.equal(stors.length, FILES, `STOR commands: ${stors.length}`);
        const mkdUpload = log.filter((l) => /FTP command: Client "[^"]+", "MKD \/upload"/.test(l));
        assert.equal(mkdUpload.length, N, "every shard asked for the shared /upload folder");

        const merged = join(data.dir, "merged.json");
        const m = await cli(
          ["report", "merge", ...[...Array(N).keys()].map(report), "--output", merged],
          {},
        );
        assert.equal(m.code, 0, m.stderr);
        const all = JSON.parse(await Deno.readTextFile(merged));
        assert.equal(all.totals.uploaded, FILES);
        assert.equal(
          all.totals.bytes,
          [...data.expected.values()].reduce(
            (n, p) => n + Deno.statSync(p).size,
            0,
          ),
        );
        assert.ok(!m.stderr.includes(server.password));
      } finally {
        await server.close();
        await Deno.remove(data.dir, { recursive: true });
      }
    }
  },
);
