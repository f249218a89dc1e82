/**
 * Passive mode: where a data connection goes. The port comes from the reply
 * to `EPSV` (`229 ... (|||port|)`, RFC 2428) or, from a server that does not
 * offer EPSV, `PASV` (`227 ... (h1,h2,h3,h4,p1,p2)`, RFC 959). The host is
 * always the control connection's: a host named in a `227` is ignored, since
 * servers behind NAT name their private address there, and obeying it would
 * let a server point the client at any third host.
 *
 * @example
 * ```ts
 * import { epsvPort, pasvPort } from "./passive.ts";
 * epsvPort({ code: 229, message: "229 Entering Extended Passive Mode (|||40000|)" }); // 40000
 * pasvPort({ code: 227, message: "227 Entering Passive Mode (10,0,0,1,156,64)" }); // 40000
 * ```
 *
 * @module
 */

import { Code } from "./codes.ts";
import { FTPError } from "./errors.ts";
import type { Reply } from "./reply.ts";

/**
 * The port part of a `229` reply: `(|||port|)`, where RFC 2428 lets the server
 * pick the delimiter (IBM i answers `(!!!port!)`); group 1 is the whole
 * parenthesis, 2 the delimiter, 3 the port.
 */
export const EPSV_PORT = /(\(([\x21-\x7e])\2\2(\d+)\2\))/;

/** The address part of a `227` reply: `h1,h2,h3,h4,p1,p2` (groups 2 to 7), all in group 1. */
export const PASV_ADDRESS = /((\d+),(\d+),(\d+),(\d+),(\d+),(\d+))/;

/** The port in a `229` reply to EPSV; undefined for any other reply. */
export function epsvPort(reply: Reply): number | undefined {
  if (reply.code !== Code.ExtendedPassiveMode) return undefined;
  const m = reply.message.match(EPSV_PORT);
  return m ? Number(m[3]) : undefined;
}

/** The port in a `227` reply to PASV (its host is ignored); undefined for any other reply. */
export function pasvPort(reply: Reply): number | undefined {
  if (reply.code !== Code.PassiveMode) return undefined;
  const m = reply.message.match(PASV_ADDRESS);
  return m ? Number(m[6]) * 256 + Number(m[7]) : undefined;
}

/**
 * Asks for a passive port: EPSV, or PASV from the first time a server does not
 * offer EPSV (a 500/502 to it, or a reply without a port). One per connection:
 * it remembers which works.
 */
export class PassiveMode {
  /** EPSV worked (true), failed (false: PASV from now on), or was not tried yet. */
  epsv?: boolean;

  /** The port for the next data connection; FTPError when PASV is refused too. */
  async port(command: (line: string) => Promise<Reply>): Promise<number> {
    if (this.epsv !== false) {
      const port = epsvPort(await command("EPSV"));
      this.epsv = port !== undefined;
      if (port !== undefined) return port;
    }
    const reply = await command("PASV");
    const port = pasvPort(reply);
    if (port === undefined) throw new FTPError(reply);
    return port;
  }
}
