/** The pool's ledger: every file queued, held by exactly one worker, or finished. */
import assert from "node:assert/strict";
import { Ledger } from "../../../src/run/pool/ledger.ts";

type Job = { id: number; note?: string };
const jobs = (...ids: number[]): Job[] => ids.map((id) => ({ id }));

Deno.test("ledger: a file is held by one worker at a time; its result counts once", () => {
  const l = new Ledger<Job>();
  l.add(jobs(1, 2, 3));
  assert.deepEqual(l.take(1, 2).map((j) => j.id), [1, 2]);
  assert.deepEqual(l.take(2, 5).map((j) => j.id), [3]);
  assert.equal(l.held, 3);
  assert.equal(l.finish(2, 1), false, "worker 2 does not hold file 1");
  assert.equal(l.finish(1, 1), true);
  assert.equal(l.finish(1, 1), false, "a repeated result does not count");
  assert.equal(l.finished, 1);
  assert.equal(l.settled, false);
});

Deno.test("ledger: a worker that ends gives back all it held, first in line, with its progress", () => {
  const l = new Ledger<Job>();
  l.add(jobs(1, 2, 3, 4));
  l.take(1, 3);
  l.finish(1, 2);
  const back = l.release(1, [{ id: 3, note: "carried" }, { id: 9, note: "not its" }]);
  assert.deepEqual(back, [{ id: 1 }, { id: 3, note: "carried" }]);
  assert.equal(l.held, 0);
  assert.deepEqual(l.take(2, 10), [{ id: 1 }, { id: 3, note: "carried" }, { id: 4 }]);
  assert.equal(l.finish(1, 1), false, "the old holder's late result does not count");
  for (const id of [1, 3, 4]) assert.ok(l.finish(2, id));
  assert.ok(l.settled);
  assert.equal(l.finished, 4);
  assert.equal(l.added, 4);
  assert.deepEqual(l.release(2), []);
});

Deno.test("ledger: queued files can be failed or dropped; finished ones leave the maps", () => {
  const l = new Ledger<Job>();
  l.add(jobs(1, 2, 3, 4));
  l.add(jobs(2)); // known already
  assert.equal(l.added, 4);
  assert.deepEqual(l.dropQueued((j) => j.id % 2 === 0).map((j) => j.id), [2, 4]);
  assert.ok(l.finishQueued(3));
  assert.equal(l.finishQueued(3), false);
  assert.deepEqual(l.drainQueue().map((j) => j.id), [1]);
  assert.ok(l.settled);
  assert.equal(l.finished, 4);
});

Deno.test("ledger: its size follows the files in flight, not the run", () => {
  const l = new Ledger<Job>();
  for (let round = 0; round < 1000; round++) {
    l.add(jobs(...Array.from({ length: 10 }, (_, i) => round * 10 + i)));
    for (const j of l.take(round % 3, 10)) l.finish(round % 3, j.id);
  }
  assert.ok(l.settled);
  assert.equal(l.finished, 10_000);
  // Nothing per file is left: a worker that ends now gives back nothing.
  for (const w of [0, 1, 2]) assert.deepEqual(l.release(w), []);
});
