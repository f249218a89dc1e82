/**
 * Active mode (`"server": { "active": true }`): the server connects to this
 * machine for each data connection, for servers with passive mode off
 * (vsftpd `pasv_enable=NO`, locked-down hosts). A listener is opened on the
 * control connection's local address (a port from `server.activePorts` when
 * given, else any), and the server is told where with `EPRT` (RFC 2428),
 * or `PORT` (RFC 959) from the first time a server does not take `EPRT`.
 * Behind NAT, `server.activeAddress` is the address announced instead of the
 * local one (the listener stays local; the NAT device forwards the range).
 *
 * Only a connection from the server's own address is taken: anyone else who
 * reaches the port first is turned away, so no third host can feed or read a
 * transfer.
 *
 * @example
 * ```ts
 * import { eprtLine, portLine } from "./active.ts";
 * eprtLine("192.0.2.7", 50001); // "EPRT |1|192.0.2.7|50001|"
 * portLine("192.0.2.7", 50001); // "PORT 192,0,2,7,195,81"
 * ```
 *
 * @module
 */

import { isCompletion } from "./codes.ts";
import { FTPError } from "./errors.ts";
import type { Reply } from "./reply.ts";

/**
 * An IPv6 literal (the addresses here are IP literals: the socket's own, or a validated
 * `activeAddress`). Not node:net's: loading it costs each upload worker start-up time.
 */
function isIPv6(address: string): boolean {
  return address.includes(":");
}

/** Replies to EPRT that mean "not this command", not "not active mode": PORT is tried. */
const EPRT_UNKNOWN = new Set([500, 501, 502, 522]);

/** What the config says about active mode. */
export interface ActiveSettings {
  /** The address the server is told to connect to (NAT); default: the local one. */
  address?: string;
  /** Local ports to listen on, [first, last]; default: any free port. */
  ports?: [number, number];
}

/** `EPRT |1|addr|port|` (IPv4) or `|2|` (IPv6). */
export function eprtLine(address: string, port: number): string {
  return `EPRT |${isIPv6(address) ? 2 : 1}|${address}|${port}|`;
}

/** `PORT h1,h2,h3,h4,p1,p2`; IPv4 only (undefined for IPv6, which only EPRT can name). */
export function portLine(address: string, port: number): string | undefined {
  if (isIPv6(address)) return undefined;
  return `PORT ${address.replaceAll(".", ",")},${port >> 8},${port & 255}`;
}

/** One data connection the server is to open: its arrival, and a way to give up on it. */
export interface ActiveData {
  /** Resolves with the server's connection; rejects when none came in `timeoutMs`. */
  connecting: Promise<Deno.TcpConn>;
  /** Stops listening (and drops the connection if it came). */
  close(): void;
}

/** Active mode for one control connection: remembers whether EPRT works. */
export class ActiveMode {
  /** EPRT was taken (true), refused (false: PORT from now on), or not tried yet. */
  eprt?: boolean;

  constructor(
    readonly settings: ActiveSettings,
    /** The control connection's local address: where the listener goes. */
    readonly localAddress: string,
    /** The control connection's peer: the only address a data connection is taken from. */
    readonly serverAddress: string,
    readonly timeoutMs: number,
  ) {}

  /**
   * Listens (Deno's TCP: the plain-FTP transport; `active_node.ts` for FTPS), tells the
   * server where (EPRT, else PORT), and returns the data connection to come: it arrives after the transfer command. FTPError when the server refuses
   * both (or, for IPv6, EPRT).
   */
  async open(command: (line: string) => Promise<Reply>): Promise<ActiveData> {
    const listener = this.#listen();
    try {
      await this.announce(command, (listener.addr as Deno.NetAddr).port);
    } catch (e) {
      listener.close();
      throw e;
    }
    return this.#accept(listener);
  }

  /**
   * Tells the server to connect to `port` (on `activeAddress`, else the local address):
   * EPRT, else PORT. FTPError when the server refuses both.
   */
  async announce(command: (line: string) => Promise<Reply>, port: number): Promise<void> {
    const address = this.settings.address ?? this.localAddress;
    if (this.eprt !== false) {
      const reply = await command(eprtLine(address, port));
      if (isCompletion(reply.code)) {
        this.eprt = true;
        return;
      }
      // Not understood (500, 502; some say 501, or 522 for the address family): PORT.
      if (!EPRT_UNKNOWN.has(reply.code) || this.eprt === true) throw new FTPError(reply);
      this.eprt = false;
    }
    const line = portLine(address, port);
    if (!line) throw new FTPError({ code: 522, message: `522 EPRT refused for ${address}` });
    const reply = await command(line);
    if (!isCompletion(reply.code)) throw new FTPError(reply);
  }

  /** A listener on the local address, on a port of the configured range if there is one. */
  #listen(): Deno.TcpListener {
    const hostname = this.localAddress;
    const range = this.settings.ports;
    if (!range) return Deno.listen({ hostname, port: 0 });
    const [first, last] = range;
    const count = last - first + 1;
    // From a random place in the range: parallel connections do not race for one port.
    const start = Math.floor(Math.random() * count);
    for (let i = 0; i < count; i++) {
      try {
        return Deno.listen({ hostname, port: first + ((start + i) % count) });
      } catch (e) {
        if (!(e instanceof Deno.errors.AddrInUse)) throw e;
      }
    }
    throw new Deno.errors.AddrInUse(`no free port in activePorts ${first}-${last}`);
  }

  /** The server's connection; any other peer is turned away. */
  #accept(listener: Deno.TcpListener): ActiveData {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    const close = () => {
      closed = true;
      clearTimeout(timer);
      try {
        listener.close();
      } catch { /* closed already */ }
    };
    const connecting = new Promise<Deno.TcpConn>((resolve, reject) => {
      timer = setTimeout(() => {
        close();
        reject(new Error("Timeout (data socket): the server did not connect (active mode)"));
      }, this.timeoutMs);
      (async () => {
        for (;;) {
          const conn = await listener.accept();
          if ((conn.remoteAddr as Deno.NetAddr).hostname === this.serverAddress) return conn;
          conn.close(); // not the server: turned away
        }
      })().then(
        (conn) => {
          close();
          resolve(conn);
        },
        (e) => reject(closed ? new Error("data connection abandoned") : e),
      );
    });
    connecting.catch(() => {}); // seen by the transfer, or dropped with `close`
    return { connecting, close };
  }
}
