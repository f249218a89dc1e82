/**
 * A middlebox that breaks EPSV (the fault proxy's `deadEpsv`: every `229`
 * names a port on which nothing listens, PASV still works), in front of
 * vsftpd: 40 files finish in seconds, byte-exact, each on its first attempt;
 * the run learns PASV once and says so once in the report. With
 * `"server": { "epsv": false }` no EPSV is sent at all.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { EPSV_FALLBACK_NOTE } from "../../src/ftp/passive.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { compareTree, makeDataset } from "../helpers/dataset.ts";
import { startFaultProxy } from "../helpers/fault_proxy.ts";
import { realServerTest } from "../helpers/real_server.ts";

for (const epsv of [undefined, false]) {
  realServerTest(
    epsv === false
      ? '"epsv": false: PASV only, no EPSV sent, every file byte-exact'
      : "EPSV's port dead behind a middlebox: PASV learned once, 40 files in seconds, byte-exact",
    {},
    async (server) => {
      const proxy = await startFaultProxy(server, { deadEpsv: true });
      const data = await makeDataset({
        count: 40,
        server: {
          host: proxy.host,
          port: proxy.port,
          user: server.user,
          ...(epsv === false ? { epsv } : {}),
        },
        options: { workers: 4, timeoutMs: 30_000, retries: 2 },
      });
      try {
        const started = Date.now();
        const { report } = await runUpload({
          config: await loadConfig(data.configPath),
          password: server.password,
        });
        const seconds = (Date.now() - started) / 1000;
        assert.equal(report.totals.uploaded, 40, JSON.stringify(report.totals));
        assert.deepEqual(await compareTree(server.root, data.expected), []);
        // Liveness bounds, not timing figures: before, 40 files did not finish in 120 s. The
        // run's own bound is loose (starting the workers may take long on a loaded machine);
        // no file may have waited for a data connection that never came.
        assert.ok(seconds < 120, `took ${seconds} s`);
        const slowest = Math.max(...report.files.map((f) => f.durationMs ?? 0));
        assert.ok(slowest < 10_000, `a file took ${slowest} ms`);
        for (const f of report.files) assert.equal(f.attempts, 1, f.destination);
        assert.equal(report.totals.reconnects, 0);
        const epsvSent = proxy.stats.commands.filter((c) => c === "EPSV").length;
        if (epsv === false) {
          assert.equal(epsvSent, 0);
          assert.deepEqual(report.notes ?? [], []);
        } else {
          // At most one EPSV per connection before the run knew better (skip phase + 4 workers).
          assert.ok(epsvSent >= 1 && epsvSent <= 5, `${epsvSent} EPSV`);
          assert.deepEqual(report.notes, [EPSV_FALLBACK_NOTE], "said once");
        }
      } finally {
        await proxy.close();
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );
}
