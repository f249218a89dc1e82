/**
 * Pending renames (`pending_rename.ts`, `pipeline.ts`): a verified file whose rename goes
 * out ahead of the next file. A confirmed rename is a result; a refused, lost or
 * out-of-step one is tried again on its own; when that try is refused as one
 * connection too many, it and every pending file after it are handed back.
 */
import assert from "node:assert/strict";
import { PendingRename, renameOutcome } from "../../src/upload/pending_rename.ts";
import { PendingRenames } from "../../src/upload/pipeline.ts";
import { type JobResult, ShrinkRequest, type UploadJob } from "../../src/upload/job.ts";
import type { Reply } from "../../src/ftp/reply.ts";

const r = (code: number, message = `${code} x`): Reply => ({ code, message });
const job = (id: number): UploadJob => ({
  id,
  source: `/src/${id}`,
  destination: `/d/${id}`,
  size: 1,
  mtimeMs: 0,
});
const uploaded = (id: number): JobResult => ({
  id,
  status: "uploaded",
  bytesSent: 1,
  attempts: 1,
  resumedFrom: [],
  durationMs: 0,
});

function pending(id: number, replies: Promise<Reply[]>, withBefore = false): PendingRename {
  const again = { ...job(id), carried: { attempts: 1, bytesSent: 1, resumedFrom: [] } };
  return new PendingRename(
    job(id),
    replies,
    withBefore,
    () => Promise.resolve(uploaded(id)),
    again,
    [
      "s3cret",
    ],
  );
}

Deno.test("renameOutcome: 350 then 2xx is renamed; a refusal is retried; other replies are out of step", () => {
  assert.deepEqual(renameOutcome([r(350), r(250)]), { kind: "renamed" });
  assert.equal(renameOutcome([r(350), r(553)]).kind, "retry");
  assert.equal(renameOutcome([r(550), r(503)]).kind, "retry");
  assert.equal(renameOutcome([r(200), r(503)]).kind, "outOfStep");
  assert.equal(renameOutcome([r(350), r(150)]).kind, "outOfStep");
});

Deno.test("pending rename: a lost rename is retried on its own, secrets kept out of its error", async () => {
  const lost = pending(1, Promise.reject(new Error("connection reset, password s3cret")));
  await lost.settled;
  assert.equal(lost.outcome?.kind, "retry");
  assert.ok(lost.outcome?.kind === "retry" && lost.outcome.lost);
  assert.ok(!JSON.stringify(lost.outcome).includes("s3cret"));
  const timed = pending(2, Promise.resolve([r(213, "213 set"), r(350), r(250)]), true);
  await timed.settled;
  assert.deepEqual(timed.before, r(213, "213 set"));
  assert.deepEqual(timed.outcome, { kind: "renamed" });
});

Deno.test("pending renames: renamed ones are results, the others tried again; a refused retry hands the rest back", async () => {
  const tried: number[] = [];
  const failed: number[] = [];
  const files = new PendingRenames(
    (j) => {
      tried.push(j.id);
      if (j.id === 3) return Promise.reject(new ShrinkRequest([j]));
      return Promise.resolve(uploaded(j.id));
    },
    (p) => failed.push(p.job.id),
  );
  files.add(pending(1, Promise.resolve([r(350), r(250)])));
  files.add(pending(2, Promise.resolve([r(350), r(553)])));
  files.add(pending(3, Promise.reject(new Error("lost"))));
  files.add(pending(4, Promise.resolve([r(350), r(250)])));
  files.add(pending(5, Promise.resolve([r(200), r(503)])));
  const done = await files.settled();
  assert.equal(files.size, 0);
  const e = await files.conclude(done, []).catch((e) => e);
  assert.ok(e instanceof ShrinkRequest);
  // 1 renamed, 2 retried and uploaded; 3's retry refused: 3 and the not-renamed after it back.
  assert.deepEqual(e.results.map((x: JobResult) => x.id).sort(), [1, 2, 4]);
  assert.deepEqual(e.jobs.map((j: UploadJob) => j.id), [3, 5]);
  assert.equal(e.jobs[1].carried?.attempts, 1, "handed back with its progress");
  assert.deepEqual(tried, [2, 3]);
  assert.deepEqual(failed, [2, 3, 5]);
});
