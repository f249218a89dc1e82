/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A test build of the upload worker: worker 1 dies with an uncaught error
 * right after posting its third result, mid-batch.
 */
import "../../workers/upload_worker.ts";

let workerId = 0;
let results = 0;
self.addEventListener("message", (e: MessageEvent) => {
  if (e.data?.type === "init") workerId = e.data.workerId;
});
const post = self.postMessage.bind(self);
self.postMessage = (msg: { type: string }) => {
  post(msg);
  if (workerId === 1 && msg.type === "result" && ++results === 3) {
    setTimeout(() => {
      throw new Error("injected crash");
    }, 0);
  }
};
