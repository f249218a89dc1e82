/**
 * The remote lock (`--remote-lock`), on the embedded server and on vsftpd:
 * a deploy against a held lock exits 4 and names the holder, sending
 * nothing; `--break-remote-lock` takes over a lock older than the TTL, not a
 * younger one; a deploy takes the lock and removes it when it ends (a
 * failed file included).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Deploy, deployTest, serverTree, type Target, writeTree } from "./deploy_kit.ts";

async function holdLock(t: Target, startedAt: Date) {
  const owner = { host: "ci-runner-7", pid: 4242, startedAt: startedAt.toISOString(), runId: "r1" };
  await writeTree(t.root, { "site/.ftpbatch-lock/owner.json": JSON.stringify(owner) });
  await t.own(join(t.root, "site"));
}

async function siteDeploy(t: Target) {
  const d = await Deploy.create(t);
  await writeTree(join(d.dir, "site"), { "index.html": "home", "a/b.txt": "b" });
  await d.config([{ source: "site/", destination: "/site" }]);
  return d;
}

deployTest("a second deploy against a held remote lock exits 4 and names the holder", async (t) => {
  const d = await siteDeploy(t);
  try {
    await holdLock(t, new Date());
    const mark = (await t.commands()).length;
    const r = await d.run("--remote-lock");
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /remote lock \/site\/\.ftpbatch-lock is held by ci-runner-7 \(pid 4242/);
    assert.ok(!(await t.commands()).slice(mark).some((c) => /^(STOR|APPE)/.test(c)));
    // Young: --break-remote-lock leaves it alone.
    const young = await d.run("--break-remote-lock");
    assert.equal(young.code, 4, young.stderr);
    assert.match(young.stderr, /younger than options\.remoteLockTtlMs/);
    assert.ok((await serverTree(t.root)).has("site/.ftpbatch-lock/owner.json"));
  } finally {
    await d.close();
  }
});

deployTest("--break-remote-lock takes over a stale lock; the run removes its own", async (t) => {
  const d = await siteDeploy(t);
  try {
    await holdLock(t, new Date(Date.now() - 2 * 3_600_000));
    const r = await d.run("--break-remote-lock");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /breaking the stale remote lock/);
    assert.equal(r.report.totals.uploaded, 2);
    const tree = await serverTree(t.root);
    assert.ok(!tree.has("site/.ftpbatch-lock/"), [...tree.keys()].join(" "));
    // Taken and released on a plain run too, with the MKD that makes it atomic.
    const mark = (await t.commands()).length;
    const again = await d.run("--remote-lock");
    assert.equal(again.code, 0, again.stderr);
    const sent = (await t.commands()).slice(mark);
    if (t.seesCommands) {
      assert.ok(sent.includes("MKD /site/.ftpbatch-lock"), sent.join("\n"));
      assert.ok(sent.includes("RMD /site/.ftpbatch-lock"), sent.join("\n"));
    }
    assert.ok(!(await serverTree(t.root)).has("site/.ftpbatch-lock/"));
  } finally {
    await d.close();
  }
});

deployTest('"epsv": false holds for the remote lock\'s listing too: no EPSV at all', async (t) => {
  const d = await Deploy.create(t);
  try {
    await writeTree(join(d.dir, "site"), { "index.html": "home" });
    await d.config([{ source: "site/", destination: "/site" }], {}, { epsv: false });
    // A stale lock: breaking it lists its folder (a data connection) before the run.
    await holdLock(t, new Date(Date.now() - 2 * 3_600_000));
    const mark = (await t.commands()).length;
    const r = await d.run("--break-remote-lock");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /breaking the stale remote lock/);
    assert.equal(r.report.totals.uploaded, 1);
    assert.ok(!(await serverTree(t.root)).has("site/.ftpbatch-lock/"));
    if (t.seesCommands) { // pure-ftpd logs no commands
      const sent = (await t.commands()).slice(mark);
      assert.ok(sent.some((c) => c.startsWith("PASV")), sent.join("\n"));
      assert.deepEqual(sent.filter((c) => c.startsWith("EPSV")), []);
    }
  } finally {
    await d.close();
  }
});

deployTest("the remote lock is released after a run with a failed file", async (t) => {
  const d = await siteDeploy(t);
  try {
    await writeTree(t.root, { "site/index.html/x": "a folder in the way" });
    await t.own(join(t.root, "site"));
    const r = await d.run("--remote-lock");
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!(await serverTree(t.root)).has("site/.ftpbatch-lock/"));
  } finally {
    await d.close();
  }
});
