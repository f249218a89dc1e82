/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A test build of the upload worker that misbehaves the way a bug would, so
 * the pool's defences can be tested: worker 1 (`upload-1`) swallows its
 * second result (`FTPBATCH_TEST_LOSE=result`: the file is never answered for,
 * the worker goes on) or, after its first result, falls silent for good with
 * the rest of its batch in hand (`FTPBATCH_TEST_LOSE=silence`).
 */
import "../../workers/upload_worker.ts";

const mode = Deno.env.get("FTPBATCH_TEST_LOSE");
let results = 0;
let silent = false;
const post = self.postMessage.bind(self);
self.postMessage = (msg: { type: string }) => {
  if (silent) return;
  if (self.name === "upload-1" && msg.type === "result") {
    results++;
    if (mode === "result" && results === 2) return;
    if (mode === "silence" && results === 2) {
      silent = true;
      return;
    }
  }
  post(msg);
};
