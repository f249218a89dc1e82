/**
 * `--bwlimit RATE`: one limit over all connections together. 6 MiB in six
 * files over three connections to vsftpd at `--bwlimit 1M` take about six
 * seconds (without the limit, a fraction of one), byte-exact; the summary's
 * rate shows the limit. Plain FTP (the native transport) and FTPS (basic-ftp)
 * are both paced. A rate that is not one is a usage error (exit 2).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "../../src/report/report.ts";
import { makeDataset } from "../helpers/dataset.ts";
import { type RealServer, realServerTest } from "../helpers/real_server.ts";
import { assertAllUploaded, serverSection } from "./matrix.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const MiB = 1024 * 1024;

async function upload(
  server: RealServer,
  configPath: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "upload", configPath, ...args],
    env: { NO_COLOR: "1", FTPBATCH_TEST_PW: server.password, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

for (const secure of [false, true]) {
  const name = secure ? "FTPS" : "plain FTP";
  realServerTest(
    `--bwlimit 1M, ${name}: 6 MiB over 3 connections take about 6 s, byte-exact`,
    { kind: "vsftpd", tls: secure },
    async (server) => {
      const data = await makeDataset({
        count: 6,
        sizeOf: () => MiB,
        server: serverSection(server, secure),
        options: { workers: 3, report: "report.json", skip: "none" },
      });
      const env: Record<string, string> = secure ? { DENO_CERT: join(server.dir, "ca.pem") } : {};
      try {
        const limited = await upload(server, data.configPath, ["--bwlimit", "1M"], env);
        assert.equal(limited.code, 0, limited.stderr);
        const report: Report = JSON.parse(await Deno.readTextFile(join(data.dir, "report.json")));
        await assertAllUploaded(server, data, report);
        assert.equal(report.workers, 3, "three connections shared the limit");
        const seconds = report.durationMs / 1000;
        assert.ok(seconds >= 4.5 && seconds <= 12, `6 MiB at 1 MiB/s took ${seconds} s`);
        // The summary's rate is the limit's (about 1 MiB/s), not a burst's.
        const rate = limited.stderr.match(/\(([\d.]+) (KiB|MiB)\/s\)/);
        assert.ok(rate, limited.stderr);
        const perSecond = Number(rate[1]) * (rate[2] === "MiB" ? MiB : 1024);
        assert.ok(perSecond > 0.5 * MiB && perSecond < 1.5 * MiB, rate[0]);

        // Without the limit the same upload is far quicker: the bound above means something.
        const free = await upload(server, data.configPath, [], env);
        assert.equal(free.code, 0, free.stderr);
        const again: Report = JSON.parse(await Deno.readTextFile(join(data.dir, "report.json")));
        assert.ok(again.durationMs < 4500, `unlimited: ${again.durationMs} ms`);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );
}

realServerTest("--bwlimit that is not a rate: exit 2, nothing sent", {}, async (server) => {
  const data = await makeDataset({ count: 1, server: serverSection(server) });
  try {
    for (const bad of ["fast", "0", "3X", "200G"]) {
      const r = await upload(server, data.configPath, ["--bwlimit", bad]);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--bwlimit must be a rate such as "512K", "2M"/);
    }
    assert.deepEqual([...Deno.readDirSync(server.root)], []);
  } finally {
    await Deno.remove(data.dir, { recursive: true });
  }
});
