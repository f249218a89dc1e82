/**
 * `--skip hash` on the embedded server (the deploy manifest), on the embedded
 * server offering XSHA256 (the server's hashes, no manifest) and on vsftpd
 * (the manifest, LIST times to the minute): a re-run after every local mtime
 * changed sends nothing; two same-size edits with unchanged mtimes are found
 * and sent, nothing else; a file edited on the server is sent again; the
 * manifest survives mirror deletions.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Deploy,
  deployTest,
  onEmbedded,
  serverTree,
  type Target,
  writeTree,
} from "./deploy_kit.ts";

const SITE = {
  "index.html": "<h1>home</h1>",
  "css/site.css": "body { color: red }",
  "js/app.js": "console.log(1)",
  "config.php": "<?php $v = 1;",
  "img/logo.svg": "<svg/>",
};
const MANIFEST = "site/.ftpbatch-manifest.json";

async function firstDeploy(t: Target) {
  const d = await Deploy.create(t);
  await writeTree(join(d.dir, "site"), SITE);
  await d.config([{ source: "site/", destination: "/site", delete: true }], { skip: "hash" });
  const r = await d.run();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.totals.uploaded, 5);
  return d;
}

function storsIn(commands: string[]): string[] {
  return commands.filter((c) => /^(STOR|APPE)/.test(c) && !c.includes(".ftpbatch-manifest"));
}

/** The same tests against `target` (a fresh server per test). */
function hashTests(label: string, withTarget: (fn: (t: Target) => Promise<void>) => void) {
  void label;
  withTarget(async (t) => {
    const d = await firstDeploy(t);
    try {
      const manifestThere = (await serverTree(t.root)).has(MANIFEST);
      const later = new Date(Date.now() + 86_400_000);
      for (const rel of Object.keys(SITE)) await Deno.utime(join(d.dir, "site", rel), later, later);
      const mark = (await t.commands()).length;
      const r = await d.run();
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([r.report.totals.uploaded, r.report.totals.skipped], [0, 5]);
      for (const f of r.report.files) assert.match(f.reason ?? "", /^unchanged: content/);
      assert.deepEqual(storsIn((await t.commands()).slice(mark)), []);
      // Not removed by the delete mode either.
      assert.equal((await serverTree(t.root)).has(MANIFEST), manifestThere);
      // The size+mtime rule would have sent them all.
      const byTime = await d.run("--plan", "--skip", "size+mtime");
      assert.equal(byTime.report.totals.planned, 5);
    } finally {
      await d.close();
    }
  });
  withTarget(async (t) => {
    const d = await firstDeploy(t);
    try {
      // Same size, other bytes, the old modification time put back.
      for (
        const [rel, text] of [["config.php", "<?php $v = 2;"], ["js/app.js", "console.log(2)"]]
      ) {
        const path = join(d.dir, "site", rel);
        const st = await Deno.stat(path);
        await Deno.writeTextFile(path, text);
        await Deno.utime(path, st.atime!, st.mtime!);
      }
      const mark = (await t.commands()).length;
      const r = await d.run();
      assert.equal(r.code, 0, r.stderr);
      const sent = r.report.files.filter((f) => f.status === "uploaded").map((f) => f.destination);
      assert.deepEqual(sent.sort(), ["/site/config.php", "/site/js/app.js"]);
      assert.equal(r.report.totals.skipped, 3);
      if (t.seesCommands) assert.equal(storsIn((await t.commands()).slice(mark)).length, 2);
      const tree = await serverTree(t.root);
      assert.equal(tree.get("site/config.php"), "<?php $v = 2;");
      assert.equal(tree.get("site/js/app.js"), "console.log(2)");
    } finally {
      await d.close();
    }
  });
  withTarget(async (t) => {
    const d = await firstDeploy(t);
    try {
      // Edited by hand on the server, same size: its listed time moves, so it is sent again.
      const remote = join(t.root, "site/index.html");
      await Deno.writeTextFile(remote, "<h1>HACK</h1>");
      await Deno.utime(remote, new Date(), new Date(Date.now() + 120_000));
      const r = await d.run();
      assert.equal(r.code, 0, r.stderr);
      const sent = r.report.files.filter((f) => f.status === "uploaded").map((f) => f.destination);
      assert.deepEqual(sent, ["/site/index.html"]);
      assert.equal((await serverTree(t.root)).get("site/index.html"), SITE["index.html"]);
    } finally {
      await d.close();
    }
  });
}

const NAMES = [
  "--skip hash: a re-run after every mtime changed sends 0 files; the manifest is kept",
  "--skip hash: two same-size edits with unchanged mtimes are sent, nothing else",
  "--skip hash: a file edited on the server (same size) is sent again",
];

// The embedded server and vsftpd: the deploy manifest.
{
  let k = 0;
  hashTests("manifest", (fn) => deployTest(NAMES[k++], fn));
}

// The embedded server with XSHA256: the server's hashes decide; no manifest is written.
{
  let k = 0;
  hashTests("server hash", (fn) => {
    Deno.test({
      name: `embedded with XSHA256: ${NAMES[k++]}`,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: () =>
        onEmbedded(async (t) => {
          await fn(t);
          assert.ok(!(await serverTree(t.root)).has(MANIFEST));
          assert.ok((await t.commands()).some((c) => c.startsWith("XSHA256 ")));
        }, { offerHash: true }),
    });
  });
}
