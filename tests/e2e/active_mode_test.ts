/**
 * Active mode (`"server": { "active": true }`) against servers with passive
 * mode off: vsftpd `pasv_enable=NO` and proftpd with EPSV/PASV denied. A
 * tree goes up byte-exact over EPRT data connections the server opens to us,
 * and a re-run lists the folders the same way and sends nothing. Without
 * `active` the same server cannot be used at all (the test would mean
 * nothing otherwise).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { compareTree, listTree, makeDataset } from "../helpers/dataset.ts";
import { type RealServerOptions, realServerTest } from "../helpers/real_server.ts";
import { assertAllUploaded, runCli, serverSection } from "./matrix.ts";

const NO_PASSIVE: { name: string; options: RealServerOptions }[] = [
  { name: "vsftpd pasv_enable=NO", options: { kind: "vsftpd", vsftpd: ["pasv_enable=NO"] } },
  {
    name: "proftpd, EPSV and PASV denied",
    options: { kind: "proftpd", proftpd: ["<Limit EPSV PASV>", "DenyAll", "</Limit>"] },
  },
];

realServerTest(
  "active mode over FTPS, vsftpd pasv_enable=NO: a tree byte-exact, the data connections TLS",
  { kind: "vsftpd", tls: true, vsftpd: ["pasv_enable=NO"] },
  async (server) => {
    const data = await makeDataset({
      count: 12,
      server: { ...serverSection(server, true), active: true },
      options: { workers: 3, report: "report.json", timeoutMs: 15_000 },
    });
    try {
      const r = await runCli(server, data, { DENO_CERT: join(server.dir, "ca.pem") });
      assert.equal(r.code, 0, r.stderr);
      await assertAllUploaded(server, data, r.report);
      for (const f of r.report.files) assert.equal(f.attempts, 1, f.destination);
      const log = await server.log();
      assert.match(log, /EPRT \|1\|127\.0\.0\.1\|\d+\|/);
      assert.match(log, /PROT P/);
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);

for (const { name, options } of NO_PASSIVE) {
  realServerTest(
    `active mode, ${name}: a tree byte-exact, a re-run sends nothing`,
    options,
    async (server) => {
      const section = { host: server.host, port: server.port, user: server.user };
      const passive = await makeDataset({
        count: 3,
        server: section,
        options: { retries: 0, skip: "none" },
      });
      const data = await makeDataset({
        count: 24,
        server: { ...section, active: true },
        options: { workers: 3, timeoutMs: 15_000 },
      });
      const run = async (configPath: string) =>
        (await runUpload({ config: await loadConfig(configPath), password: server.password }))
          .report;
      try {
        // Passive mode is off: without `active` nothing can be sent.
        const refused = await run(passive.configPath);
        assert.equal(refused.totals.uploaded, 0, JSON.stringify(refused.totals));
        assert.deepEqual(
          await listTree(server.root).then((t) => t.filter((p) => !p.endsWith("/"))),
          [],
        );

        const first = await run(data.configPath);
        assert.equal(first.totals.uploaded, 24, JSON.stringify(first.files.find((f) => f.error)));
        assert.deepEqual(await compareTree(server.root, data.expected), []);
        for (const f of first.files) assert.equal(f.attempts, 1, f.destination);
        const log = await server.log();
        assert.match(log, /EPRT \|1\|127\.0\.0\.1\|\d+\|/);

        const again = await run(data.configPath);
        assert.equal(again.totals.skipped, 24, JSON.stringify(again.totals));
        assert.equal(again.totals.bytesSent, 0);
      } finally {
        await Deno.remove(passive.dir, { recursive: true });
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );
}
