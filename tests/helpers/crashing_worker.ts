/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A test build of the upload worker: worker 1 (`upload-1`) dies with an
 * uncaught error right after posting its third result, mid-batch.
 */
import "../../workers/upload_worker.ts";

let results = 0;
const post = self.postMessage.bind(self);
self.postMessage = (msg: { type: string }) => {
  post(msg);
  if (self.name === "upload-1" && msg.type === "result" && ++results === 3) {
    setTimeout(() => {
      throw new Error("injected crash");
    }, 0);
  }
};
