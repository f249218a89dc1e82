/**
 * A run whose records stream to the report file writes the report the
 * in-memory one would be: the same records, the same totals and entries.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { buildReport, type ReportFile, splitReport } from "../../src/report/report.ts";
import { ReportWriter } from "../../src/report/report_writer.ts";
import { startEmbeddedServer } from "../../src/server/embedded_server.ts";
import { makeFolderTree, TREE_EXCLUDE } from "../helpers/folder_tree.ts";
import { integration } from "../helpers/kit.ts";

/** A config of listed files (one missing) and a folder source, for a fresh server. */
async function setUp(dir: string, port: number): Promise<string> {
  await Deno.mkdir(join(dir, "listed"), { recursive: true });
  for (let i = 0; i < 12; i++) {
    await Deno.writeTextFile(join(dir, "listed", `f${i}.txt`), "x".repeat(i));
  }
  const tree = await makeFolderTree(dir);
  const configPath = join(dir, "config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      server: { host: "127.0.0.1", port },
      options: { workers: 3, report: "report.json" },
      files: [
        ...Array.from(
          { length: 6 },
          (_, i) => ({ source: `listed/f${i}.txt`, destination: `/l/f${i}.txt` }),
        ),
        { source: "listed/nope.txt", destination: "/l/nope.txt" },
        { source: `${tree.root}/`, destination: "/site/", exclude: TREE_EXCLUDE },
        ...Array.from({ length: 6 }, (_, i) => ({
          source: `listed/f${i + 6}.txt`,
          destination: `/l/f${i + 6}.txt`,
        })),
      ],
    }),
  );
  return configPath;
}

/** What does not depend on timing. */
const stable = (f: ReportFile) =>
  JSON.stringify([
    (f.source ?? "").replace(/.*ftpbatch-stream-[^/]*\//, ""),
    f.destination,
    f.status,
    f.size,
    f.bytesSent,
    f.error ?? "",
  ]);

Deno.test({
  name: "streamed report = the in-memory report of the same run: same records, same totals",
  ...integration,
  async fn() {
    const runs = [];
    for (const streamed of [true, false]) {
      const root = await Deno.makeTempDir({ prefix: "ftpbatch-root-" });
      const server = await startEmbeddedServer({ root, port: 0 });
      const dir = await Deno.makeTempDir({ prefix: "ftpbatch-stream-" });
      try {
        const config = await loadConfig(await setUp(dir, server.port));
        const writer = streamed ? new ReportWriter(config.options.report!) : undefined;
        const told: ReportFile[] = [];
        const outcome = await runUpload({
          config,
          sink: writer,
          onEvent: (e) => e.type === "file" && told.push(e.file),
        });
        if (writer) assert.equal(writer.finish(splitReport(outcome.report).tail), undefined);
        const report = streamed
          ? JSON.parse(await Deno.readTextFile(config.options.report!))
          : outcome.report;
        runs.push({ report, told, outcome });
      } finally {
        await server.close();
        await Deno.remove(root, { recursive: true });
        await Deno.remove(dir, { recursive: true });
      }
    }
    const [streamed, memory] = runs;
    assert.equal(streamed.report.version, 2);
    assert.equal(streamed.outcome.report.files.length, 0, "nothing kept in memory");
    // What the old coordinator built from the same records (buildReport over them).
    const built = buildReport({
      startedAt: new Date(streamed.report.startedAt),
      finishedAt: new Date(streamed.report.finishedAt),
      server: streamed.report.server,
      workers: streamed.report.workers,
      reconnects: streamed.report.totals.reconnects,
      entries: streamed.report.entries,
      notes: streamed.report.notes,
      files: streamed.told,
    });
    const byDestination = (a: ReportFile, b: ReportFile) => a.destination < b.destination ? -1 : 1;
    assert.deepEqual(
      { ...streamed.report, files: [...streamed.report.files].sort(byDestination) },
      { ...built, files: [...built.files].sort(byDestination) },
    );
    // And the same as a run that kept its records in memory, but for timings.
    assert.deepEqual(streamed.report.totals, memory.report.totals);
    const noSource = (r: { entries: { source: string }[] }) =>
      r.entries.map(({ source: _, ...e }) => e);
    assert.deepEqual(noSource(streamed.report), noSource(memory.report));
    assert.deepEqual(
      streamed.report.files.map(stable).sort(),
      memory.report.files.map(stable).sort(),
    );
    assert.equal(memory.report.totals.missing, 1);
    assert.ok(memory.report.totals.uploaded >= 12 + 8);
    assert.deepEqual(
      streamed.outcome.summary.problems.map(stable),
      memory.outcome.summary.problems.map(stable),
    );
  },
});
