/**
 * Upload workers in the main isolate (`src/run/pool/inline_worker.ts`): a bug inside one is an
 * error the pool sees (as a Web Worker's uncaught error), not the end of the process, and a
 * worker the pool ends leaves no socket, timer or pending operation behind (the test
 * sanitizers check the last).
 */
import assert from "node:assert/strict";
import { InlineWorker, uploadWorkerModule } from "../../../src/run/pool/inline_worker.ts";
import type { FromWorker, UploadSettings } from "../../../src/run/pool/messages.ts";

function settings(port: number, timeoutMs = 30_000): UploadSettings {
  return {
    server: { host: "127.0.0.1", port, user: "u", password: "p", secure: false },
    retries: 0,
    atomic: true,
    verify: "size",
    backoffBaseMs: 10,
    backoffMaxMs: 10,
    timeoutMs,
  };
}

Deno.test("inline worker: a bug inside it reaches onerror; nothing is said after it", async () => {
  const worker = new InlineWorker();
  const said: FromWorker[] = [];
  worker.onmessage = (e) => said.push(e.data);
  const error = new Promise<ErrorEvent>((resolve) => (worker.onerror = resolve));
  // Jobs before `init`: the service has no uploader, a programming error.
  worker.postMessage({
    type: "jobs",
    jobs: [{ id: 1, source: "/nonexistent", destination: "/x", size: 1, mtimeMs: 0 }],
  });
  const e = await error;
  assert.match(e.message, /^Uncaught TypeError/);
  worker.postMessage({ type: "finish" });
  await new Promise((r) => setTimeout(r, 20));
  // `idle` was said before the bug struck (the last job of a batch asks for more).
  assert.deepEqual(said.map((m) => m.type), ["idle"]);
  worker.terminate();
});

Deno.test("inline worker: ended while its login waits on a silent server, it says nothing more", async () => {
  // Accepts the connection and never greets. A login under way is not cut short by the end
  // (it has no session to close yet): it ends by its timeout, and what it says is dropped.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const worker = new InlineWorker();
  const said: FromWorker[] = [];
  worker.onmessage = (e) => said.push(e.data);
  worker.postMessage({ type: "init", settings: settings(listener.addr.port, 500) });
  const conn = await accepted;
  worker.terminate();
  // The client side closed (by the login's timeout): the server sees the end of the stream.
  const buf = new Uint8Array(64);
  assert.equal(await conn.read(buf), null);
  conn.close();
  listener.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(said, []); // no `connectRetry`, no `connectFailed` from an ended worker
});

Deno.test("uploads run inline unless FTPS, a test module or FTPBATCH_WORKER_THREADS=1 says otherwise", () => {
  const test = new URL("file:///some/worker.ts");
  assert.equal(uploadWorkerModule(test), test);
  const before = Deno.env.get("FTPBATCH_WORKER_THREADS");
  try {
    Deno.env.delete("FTPBATCH_WORKER_THREADS");
    assert.equal(uploadWorkerModule(), "inline");
    // FTPS: one connection per isolate (proftpd's TLS session check, see inline_worker.ts).
    for (const secure of [true, "implicit"] as const) {
      assert.ok(uploadWorkerModule(undefined, secure) instanceof URL);
    }
    Deno.env.set("FTPBATCH_WORKER_THREADS", "1");
    const url = uploadWorkerModule();
    assert.ok(url instanceof URL && url.pathname.endsWith("/workers/upload_worker.ts"));
  } finally {
    if (before === undefined) Deno.env.delete("FTPBATCH_WORKER_THREADS");
    else Deno.env.set("FTPBATCH_WORKER_THREADS", before);
  }
});
