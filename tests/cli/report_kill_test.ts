/**
 * A run killed outright (SIGKILL: no handler runs) leaves no partial report
 * under the report's name: the records were streaming to the temporary file
 * next to it, and an older report there is left whole. The next run writing
 * that report removes the killed run's temporary file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { integration, MAIN, withServer } from "./cli_process.ts";
import { waitFor } from "../helpers/partial.ts";
import { temporaryName } from "../../src/report/report_writer.ts";

Deno.test({
  name:
    "SIGKILL mid-run: records were streaming to the temporary file; the report's name holds the old report",
  ...integration,
  async fn() {
    await withServer(async (server) => {
      server.faults.throttleBytesPerSecond = 64 * 1024;
      const dir = await Deno.makeTempDir();
      await Deno.mkdir(join(dir, "site"));
      for (let i = 0; i < 200; i++) {
        await Deno.writeFile(
          join(dir, "site", `f${String(i).padStart(3, "0")}.bin`),
          new Uint8Array(4096),
        );
      }
      const reportPath = join(dir, "report.json");
      const old = '{"version":2,"old":"the last run\'s report"}\n';
      await Deno.writeTextFile(reportPath, old);
      await Deno.writeTextFile(
        join(dir, "c.json"),
        JSON.stringify({
          server: { host: server.host, port: server.port, user: "u", password: "pw-53cr3t" },
          options: { report: "report.json", workers: 2 },
          files: [{ source: "site/", destination: "/www/" }],
        }),
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "upload", join(dir, "c.json"), "--quiet"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const tmp = temporaryName(reportPath, child.pid);
      try {
        // Streaming: a few uploaded files' records are in the temporary file while the run goes.
        await waitFor("records in the temporary report", async () => {
          const text = await Deno.readTextFile(tmp);
          return (text.match(/"status":"uploaded"/g)?.length ?? 0) >= 3 ? text : undefined;
        }, 60_000);
      } finally {
        child.kill("SIGKILL");
        await child.status;
      }
      assert.equal(await Deno.readTextFile(reportPath), old, "the old report, whole");
      // What is there is a temporary file, never parseable as a finished report.
      assert.throws(() => JSON.parse(Deno.readTextFileSync(tmp)));
      // The next run writing this report removes the dead run's temporary file, and says so.
      const again = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "upload", join(dir, "c.json"), "--dry-run", "--quiet"],
      }).output();
      assert.equal(again.code, 0);
      assert.match(
        new TextDecoder().decode(again.stderr),
        /removed .*report\.json\.tmp-\d+-\d+ \(the temporary report of a run that was killed\)/,
      );
      assert.ok(!(await Deno.stat(tmp).then(() => true, () => false)), "the leftover is gone");
      assert.equal(JSON.parse(await Deno.readTextFile(reportPath)).totals.planned, 200);
      await Deno.remove(dir, { recursive: true });
    });
  },
});
