/** The streaming report reader: any JSON layout, one record at a time; a cut file is an error. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ReportScanError, scanReportFile } from "../../src/report/report_scanner.ts";

const report = {
  version: 2,
  startedAt: "2026-01-01T00:00:00.000Z",
  server: { host: "h", port: 21, user: "u", secure: false },
  shard: { index: 0, count: 1, digest: "d", config: "c" },
  files: [
    { destination: '/a "quoted" {[,]}', status: "uploaded", size: 1, error: 'x\\y"\\' },
    {
      destination: "/b/日本語 \u2028",
      status: "failed",
      size: 2,
      resumedFrom: [1, [2, { a: "}" }]],
    },
    { destination: "/c", status: "planned", size: 0, nested: { files: [{ not: "this" }] } },
  ],
  totals: { files: 3 },
  entries: [{ index: 0, source: "]}", destination: "/" }],
};

async function scan(text: string) {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "r.json");
    await Deno.writeTextFile(path, text);
    const files: unknown[] = [];
    let head: Record<string, unknown> | undefined;
    const result = await scanReportFile(path, {
      filesStart: (h) => head = h,
      file: (f, i) => files[i] = f,
    });
    return { result, files, head };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("report scanner: the same fields and records whatever the layout", async () => {
  const { files, ...fields } = report;
  for (
    const text of [
      JSON.stringify(report),
      JSON.stringify(report, null, 2),
      JSON.stringify(report, null, "\t") + "\n\n",
    ]
  ) {
    const got = await scan(text);
    assert.deepEqual(got.files, files);
    assert.deepEqual(got.result.fields, fields);
    assert.equal(got.result.files, 3);
    assert.deepEqual(Object.keys(got.head!), ["version", "startedAt", "server", "shard"]);
  }
  // Files first: the head at that point is empty; the rest comes at the end.
  const first = await scan(JSON.stringify({ files, ...fields }));
  assert.deepEqual(first.head, {});
  assert.deepEqual(first.result.fields, fields);
  // No files at all, and an empty list.
  assert.equal((await scan('{"version":2}')).result.files, undefined);
  assert.equal((await scan('{"files":[]}')).result.files, 0);
});

Deno.test("report scanner: cut short, not an object, or broken: an error that says so", async () => {
  const text = JSON.stringify(report, null, 2);
  for (
    const [bad, message] of [
      [text.slice(0, text.length / 2), /cut short/],
      [text.slice(0, -2), /cut short/],
      ["[1, 2]", /not a JSON object/],
      ['{"files": [1]}', /files\[0\] that is not a JSON object/],
      ['{"files": [{"a": tru}]}', /files\[0\] that is not JSON/],
      ['{"version": 2,, "x": 1}', /not JSON/],
      ["{} {}", /text after the end/],
    ] as const
  ) {
    await assert.rejects(
      scan(bad),
      (e) => e instanceof ReportScanError && message.test(e.message),
      bad,
    );
  }
});
