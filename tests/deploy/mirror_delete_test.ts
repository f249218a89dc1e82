/**
 * Mirror deletions (`"delete": true`) through the command line, on the
 * embedded server and on vsftpd: exactly what was removed locally goes
 * (files by DELE, folders deepest first by RMD), `keep` matches, ftpbatch's
 * own names and everything outside the destination stay, each deletion is a
 * report record and an NDJSON event; a run with a failed file deletes
 * nothing; a run over the cap deletes nothing and exits 5, and a higher
 * `--max-delete` then proceeds; an empty source deletes nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Deploy, deployTest, serverTree, type Target, writeTree } from "./deploy_kit.ts";

const SITE = {
  "index.html": "<h1>home</h1>",
  "a/x.txt": "x",
  "a/gone.txt": "gone",
  "b/z.txt": "z",
  "c/d/e.txt": "deep",
  "old.html": "old",
  "uploads/u.jpg": "user upload",
};
const REMOVED = ["a/gone.txt", "old.html", "c", "uploads"];

/** First deploy of SITE to /site, files seeded outside it, then REMOVED taken away locally. */
async function deployedSite(t: Target, options: Record<string, unknown> = {}) {
  const d = await Deploy.create(t);
  const site = join(d.dir, "site");
  await writeTree(site, SITE);
  await d.config([
    { source: "site/", destination: "/site", delete: true, keep: ["uploads/**"] },
  ], options);
  const first = await d.run();
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.report.totals.deleted, 0);
  // Outside the destination, one folder whose name starts like it.
  await writeTree(t.root, {
    "outside.txt": "o",
    "site-old/y.txt": "y",
    "site/.ftpbatch-manifest.json": "{}",
  });
  await t.own(join(t.root, "outside.txt"));
  await t.own(join(t.root, "site-old"));
  await t.own(join(t.root, "site/.ftpbatch-manifest.json"));
  for (const rel of REMOVED) await Deno.remove(join(site, rel), { recursive: true });
  return d;
}

const AFTER = [
  "outside.txt",
  "site-old/",
  "site-old/y.txt",
  "site/",
  "site/.ftpbatch-manifest.json",
  "site/a/",
  "site/a/x.txt",
  "site/b/",
  "site/b/z.txt",
  "site/index.html",
  "site/uploads/",
  "site/uploads/u.jpg",
];
const DELETED = ["/site/a/gone.txt", "/site/c", "/site/c/d", "/site/c/d/e.txt", "/site/old.html"];

deployTest(
  "delete: true removes exactly what was removed locally, keeps keep/outside/own names",
  async (t) => {
    const d = await deployedSite(t);
    try {
      const before = (await t.commands()).length;
      const r = await d.run();
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([...(await serverTree(t.root)).keys()].sort(), AFTER);
      const deleted = r.report.files.filter((f) => f.status === "deleted");
      assert.deepEqual(deleted.map((f) => f.destination).sort(), DELETED);
      for (const f of deleted) assert.deepEqual([f.source, f.action], [null, "delete"]);
      assert.equal(r.report.totals.deleted, 5);
      assert.equal(r.report.totals.skipped, 3);
      const events = r.events.filter((e) => e.type === "file" && e.status === "deleted");
      assert.deepEqual(events.map((e) => e.destination).sort(), DELETED);
      for (const e of events) assert.deepEqual([e.source, e.action], [null, "delete"]);
      assert.match(r.stderr, /5 deleted/);
      // Files one by one, then folders deepest first; nothing recursive, nothing else.
      const sent = (await t.commands()).slice(before).filter((c) => /^(DELE|RMD|XRMD)\b/.test(c));
      if (t.seesCommands) assertDeletionOrder(sent);
      // Again: nothing more to delete.
      const again = await d.run();
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.report.totals.deleted, 0);
    } finally {
      await d.close();
    }
  },
);

function assertDeletionOrder(sent: string[]) {
  assert.deepEqual(sent.filter((c) => c.startsWith("RMD")), [
    "RMD /site/c/d",
    "RMD /site/c",
  ]);
  assert.deepEqual(
    sent.filter((c) => c.startsWith("DELE")).sort(),
    ["DELE /site/a/gone.txt", "DELE /site/c/d/e.txt", "DELE /site/old.html"],
  );
  assert.ok(sent.indexOf("RMD /site/c/d") > sent.indexOf("DELE /site/c/d/e.txt"));
}

deployTest("a run with one failed file deletes nothing", async (t) => {
  const d = await deployedSite(t);
  try {
    // A local file whose destination is a non-empty remote folder: its upload fails.
    await writeTree(join(d.dir, "site"), { blocked: "a file" });
    await writeTree(t.root, { "site/blocked/inner.txt": "in the way" });
    await t.own(join(t.root, "site/blocked"));
    const r = await d.run("--max-delete", "100");
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.report.totals.failed, 1);
    assert.equal(r.report.totals.deleted, 0);
    assert.match(r.report.notes?.join("\n") ?? "", /mirror deletions not done: 1 file/);
    const tree = await serverTree(t.root);
    for (const rel of ["site/old.html", "site/a/gone.txt", "site/c/d/e.txt"]) {
      assert.ok(tree.has(rel), rel);
    }
    assert.ok(!(await t.commands()).some((c) => /^(DELE|RMD) \/site\/(old|a|c)/.test(c)));
  } finally {
    await d.close();
  }
});

deployTest("over --max-delete nothing is deleted (exit 5); a higher cap proceeds", async (t) => {
  const d = await deployedSite(t);
  try {
    const before = await serverTree(t.root);
    const capped = await d.run("--max-delete", "4");
    assert.equal(capped.code, 5, capped.stderr);
    assert.match(capped.stderr, /5 deletion\(s\) planned, over the cap of 4/);
    assert.match(capped.stderr, /--max-delete/);
    assert.equal(capped.report.exitCode, 5);
    assert.equal(capped.report.totals.deleted, 0);
    assert.deepEqual(await serverTree(t.root), before);
    const ok = await d.run("--max-delete", "5");
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.report.totals.deleted, 5);
    assert.deepEqual([...(await serverTree(t.root)).keys()].sort(), AFTER);
  } finally {
    await d.close();
  }
});

deployTest("the default cap: more than half of the destination is refused", async (t) => {
  const d = await deployedSite(t);
  try {
    // Most of the site gone locally: 9 of the 14 paths listed would go.
    for (const rel of ["a", "b"]) await Deno.remove(join(d.dir, "site", rel), { recursive: true });
    const before = await serverTree(t.root);
    const r = await d.run();
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /more than half/);
    assert.match(r.stderr, /--max-delete \d+/);
    assert.deepEqual(await serverTree(t.root), before);
  } finally {
    await d.close();
  }
});

deployTest("an empty source folder deletes nothing", async (t) => {
  const d = await deployedSite(t);
  try {
    await Deno.remove(join(d.dir, "site"), { recursive: true });
    await Deno.mkdir(join(d.dir, "site"));
    const before = await serverTree(t.root);
    const r = await d.run("--max-delete", "1000");
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /has no files to mirror/);
    assert.deepEqual(await serverTree(t.root), before);
  } finally {
    await d.close();
  }
});
