/**
 * Rewrites a passive reply so the data connection goes through a proxy: the
 * FTP-aware proxies of the tests (`fault_proxy.ts`) and of the bench
 * (`bench/latency_proxy.ts`) share it.
 *
 * @example
 * ```ts
 * import { rewritePassive } from "./passive_reply.ts";
 * rewritePassive("229 Entering Extended Passive Mode (|||40000|)", () => 5000);
 * // "229 Entering Extended Passive Mode (|||5000|)"
 * ```
 *
 * @module
 */

import { EPSV_PORT, PASV_ADDRESS } from "../../src/ftp/passive.ts";

/**
 * `229 ... (|||port|)` gets the port `listen(port)` returns; `227 ...
 * (h1,h2,h3,h4,p1,p2)` gets 127,0,0,1 and that port (the host in the reply
 * is ignored: data always goes to the proxy's loopback target). Any other
 * line: undefined. The reply is read as the client reads it (`src/ftp/passive.ts`).
 */
export function rewritePassive(
  line: string,
  listen: (serverPort: number) => number,
): string | undefined {
  let m = line.startsWith("229 ") ? line.match(EPSV_PORT) : null;
  if (m) {
    const d = m[2];
    return line.replace(m[1], `(${d}${d}${d}${listen(Number(m[3]))}${d})`);
  }
  m = line.startsWith("227 ") ? line.match(PASV_ADDRESS) : null;
  if (m) {
    const port = listen(Number(m[6]) * 256 + Number(m[7]));
    return line.replace(m[1], `127,0,0,1,${port >> 8},${port & 255}`);
  }
  return undefined;
}
