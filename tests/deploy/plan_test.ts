/**
 * `--plan` on the embedded server and on vsftpd: it connects, lists and
 * decides like a run, reports the sends (`planned`), the skips (`skipped`
 * with the reason) and the deletions (`planned`, `"action": "delete"`), and
 * leaves the server byte-for-byte and time-for-time as it was: the whole
 * tree compared, and no command that writes in what the server received.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Deploy, deployTest, snapshot, WRITE_COMMANDS, writeTree } from "./deploy_kit.ts";

deployTest("--plan reports sends, skips and deletions and changes nothing", async (t) => {
  const d = await Deploy.create(t);
  try {
    const site = join(d.dir, "site");
    await writeTree(site, { "a.txt": "a", "b.txt": "b", "sub/c.txt": "c", "old.txt": "o" });
    await writeTree(d.dir, { "single.txt": "single" });
    await d.config([
      { source: "site/", destination: "/site", delete: true },
      { source: "single.txt", destination: "/other/single.txt" },
    ]);
    const first = await d.run();
    assert.equal(first.code, 0, first.stderr);
    // Changed (new size), new, removed locally; a listed file not yet sent.
    await writeTree(site, { "a.txt": "a, longer now", "new/n.txt": "n" });
    await Deno.remove(join(site, "old.txt"));
    await writeTree(d.dir, { "single.txt": "single, changed" });

    const tree = await snapshot(t.root);
    const mark = (await t.commands()).length;
    const plan = await d.run("--plan");
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual(await snapshot(t.root), tree);
    const sent = (await t.commands()).slice(mark);
    if (t.seesCommands) assert.ok(sent.length > 0, "the plan connected");
    assert.deepEqual(sent.filter((c) => WRITE_COMMANDS.test(c) || /^MDTM \d{14}/.test(c)), []);

    const by = (status: string, action?: string) =>
      plan.report.files.filter((f) => f.status === status && f.action === action)
        .map((f) => f.destination).sort();
    assert.deepEqual(by("planned"), ["/other/single.txt", "/site/a.txt", "/site/new/n.txt"]);
    assert.deepEqual(by("skipped"), ["/site/b.txt", "/site/sub/c.txt"]);
    assert.deepEqual(by("planned", "delete"), ["/site/old.txt"]);
    for (const f of plan.report.files.filter((f) => f.status === "skipped")) {
      assert.match(f.reason ?? "", /^unchanged/);
    }
    assert.equal(plan.report.plan, true);
    assert.deepEqual(
      [plan.report.totals.planned, plan.report.totals.skipped, plan.report.totals.plannedDeletions],
      [3, 2, 1],
    );
    assert.match(plan.stderr, /plan: 3 to send, 2 unchanged \(skipped\), 1 to delete/);
    // The same run for real does what the plan said.
    const real = await d.run();
    assert.equal(real.code, 0, real.stderr);
    assert.deepEqual(
      [real.report.totals.uploaded, real.report.totals.skipped, real.report.totals.deleted],
      [3, 2, 1],
    );
  } finally {
    await d.close();
  }
});

deployTest("--plan and --dry-run together are a usage error", async (t) => {
  const d = await Deploy.create(t);
  try {
    await writeTree(d.dir, { "a.txt": "a" });
    await d.config([{ source: "a.txt", destination: "/a.txt" }]);
    const r = await d.run("--plan", "--dry-run");
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--plan connects and lists; --dry-run connects to nothing/);
    // (vsftpd's start-up probe logs in; nothing of this run's.)
    assert.deepEqual((await t.commands()).filter((c) => !/^(USER|PASS|QUIT)/.test(c)), []);
  } finally {
    await d.close();
  }
});
