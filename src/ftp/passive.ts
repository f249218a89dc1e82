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

/** How long a data connection may take to connect: a few seconds, not the whole timeout. */
export const DATA_CONNECT_MS = 5_000;

/** Said once in the report when a run learned that EPSV's data connections fail. */
export const EPSV_FALLBACK_NOTE =
  "data connections to the port EPSV named could not be opened (a firewall or NAT device in " +
  'the way?); PASV worked and was used from then on. "server": { "epsv": false } says so up front';

/** What a run decides and learns about EPSV, shared by all its connections. */
export interface EpsvPolicy {
  /** `false`: PASV only (`server.epsv`). */
  epsv?: boolean;
  /** One Int32: 1 once a connection found EPSV's data connections fail and PASV's work. */
  learned?: SharedArrayBuffer;
}

/** A new run-wide memory for {@linkcode EpsvPolicy.learned}. */
export function epsvMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** Whether a run's connections found EPSV's data connections failing (PASV used instead). */
export function epsvFellBack(learned: SharedArrayBuffer | undefined): boolean {
  return learned !== undefined && Atomics.load(new Int32Array(learned), 0) === 1;
}

/**
 * Asks for a passive port: EPSV, or PASV from the first time a server does not
 * offer EPSV (a 500/502 to it, or a reply without a port). One per connection:
 * it remembers which works.
 *
 * A middlebox may also break EPSV in a way no reply shows: the `229` names a
 * port on which nothing answers, while PASV would work (one of the most
 * reported failures of FTP deploy tools). So the first data connection after
 * an EPSV on each connection is awaited ({@linkcode open}); when it cannot be
 * opened, PASV is tried once, and if that works, the whole run uses PASV from
 * then on (`EpsvPolicy.learned`).
 */
export class PassiveMode {
  /** EPSV worked (true), failed (false: PASV from now on), or was not tried yet. */
  epsv?: boolean;
  /** A data connection to an EPSV port has been opened on this connection. */
  proven = false;
  /** The last port came from EPSV. */
  #viaEpsv = false;

  constructor(readonly policy: EpsvPolicy = {}) {
    if (policy.epsv === false || epsvFellBack(policy.learned)) this.epsv = false;
  }

  /** The port for the next data connection; FTPError when PASV is refused too. */
  async port(command: (line: string) => Promise<Reply>): Promise<number> {
    // Another connection of the run may have learned meanwhile.
    if (!this.proven && epsvFellBack(this.policy.learned)) this.epsv = false;
    if (this.epsv !== false) {
      const port = epsvPort(await command("EPSV"));
      this.epsv = port !== undefined;
      this.#viaEpsv = port !== undefined;
      if (port !== undefined) return port;
    }
    this.#viaEpsv = false;
    const reply = await command("PASV");
    const port = pasvPort(reply);
    if (port === undefined) throw new FTPError(reply);
    return port;
  }

  /**
   * A port, and the data connection to it started with `connect` (wrapped: it may still be
   * connecting). Once EPSV is proven
   * on this connection (or PASV is in use) the connection is returned still connecting,
   * so the transfer command can go out meanwhile; the first after an EPSV is awaited,
   * and when it cannot be opened PASV is tried once (see the class doc). Throws the
   * PASV connection's error when that fails too.
   */
  async open<C>(
    command: (line: string) => Promise<Reply>,
    connect: (port: number) => Promise<C>,
  ): Promise<{ connecting: Promise<C> }> {
    const connecting = connect(await this.port(command));
    if (!this.#viaEpsv || this.proven) return { connecting };
    try {
      await connecting;
      this.proven = true;
      return { connecting };
    } catch {
      this.epsv = false;
      const pasv = connect(await this.port(command));
      await pasv;
      if (this.policy.learned) Atomics.store(new Int32Array(this.policy.learned), 0, 1);
      return { connecting: pasv };
    }
  }
}
