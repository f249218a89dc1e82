/**
 * The run's upload rate limit (`bandwidth.ts`) as a node stream, for the FTPS
 * transport, which pipes the file into the data connection.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { type Readable, Transform } from "node:stream";
import type { Throttle } from "./bandwidth.ts";

export /**
 * `source` paced by the run's rate limit: each chunk, cut to the throttle's slice, goes on
 * once its stretch of the shared link begins.
 */
function throttled(source: Readable, throttle: Throttle | undefined): Readable {
  if (!throttle) return source;
  const pace = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      void (async () => {
        for (let off = 0; off < chunk.length; off += throttle.slice) {
          const piece = chunk.subarray(off, off + throttle.slice);
          await throttle.take(piece.length);
          this.push(piece);
        }
      })().then(() => callback(), callback);
    },
  });
  source.once("error", (e) => pace.destroy(e));
  return source.pipe(pace);
}
