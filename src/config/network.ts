/**
 * The config keys for networks in the wild (docs/networks.md): how data
 * connections are made (`server.active`, `server.activeAddress`,
 * `server.activePorts`, `server.epsv`) and the upload rate limit
 * (`options.bwlimit`). Kept apart from `validate.ts`, which lists these keys
 * and calls the readers here.
 *
 * @module
 */

import { boolean, type Check, got, type Obj, type Reader } from "./checks.ts";
import type { ServerConfig } from "./types.ts";
import { MAX_RATE, MIN_RATE, parseRate } from "../ftp/bandwidth.ts";

/** Keys of `server` read here. */
export const NETWORK_SERVER_KEYS = ["active", "activeAddress", "activePorts", "epsv"];
/** Keys of `options` read here. */
export const NETWORK_OPTION_KEYS = ["bwlimit"];

/** The wording every bwlimit problem shares (flag and config). */
export const RATE_WORDING = `a rate such as "512K", "2M" or "1.5M" (bytes per second; K = 1024), ` +
  `from ${MIN_RATE / 1024}K to ${MAX_RATE / 1024 ** 3}G`;

/** An IPv4 or IPv6 literal (no node:net: it would cost every run its load time). */
function isIpLiteral(text: string): boolean {
  const v4 = text.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) return v4.slice(1).every((n) => Number(n) <= 255);
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return false;
  try {
    return new URL(`http://[${text}]/`).hostname !== "";
  } catch {
    return false;
  }
}

const addressCheck: Check = (value) =>
  typeof value !== "string"
    ? `must be a string${got(value)}`
    : !isIpLiteral(value)
    ? 'must be an IP address (IPv4 such as "203.0.113.7", or IPv6), as the server is to reach this machine'
    : undefined;

const portRangeCheck: Check = (value) => {
  const ok = Array.isArray(value) && value.length === 2 &&
    value.every((n) => Number.isInteger(n) && n >= 1024 && n <= 65535) && value[0] <= value[1];
  return ok
    ? undefined
    : `must be two port numbers [first, last] from 1024 to 65535, first not above last, e.g. [50000, 50100]${
      Array.isArray(value) ? "" : got(value)
    }`;
};

/** Reads the data-connection keys of `server` into `server`. */
export function readNetworkServer(r: Reader, o: Obj, p: string, server: ServerConfig): void {
  const active = r.get<boolean | undefined>(o, p, "active", boolean, undefined);
  const address = r.get<string | undefined>(o, p, "activeAddress", addressCheck, undefined);
  const ports = r.get<[number, number] | undefined>(
    o,
    p,
    "activePorts",
    portRangeCheck,
    undefined,
  );
  const epsv = r.get<boolean | undefined>(o, p, "epsv", boolean, undefined);
  if (active !== undefined) server.active = active;
  if (address !== undefined) server.activeAddress = address;
  if (ports !== undefined) server.activePorts = ports;
  if (epsv !== undefined) server.epsv = epsv;
  for (const key of ["activeAddress", "activePorts"] as const) {
    if (o[key] !== undefined && active !== true) {
      r.add(`${p}.${key}`, 'applies to active mode only; add "active": true, or remove it');
    }
  }
}

/** `options.bwlimit` in bytes per second, or undefined when absent (or wrong: reported). */
export function readBwlimit(r: Reader, o: Obj, p: string): number | undefined {
  const raw = r.get<string | number | undefined>(
    o,
    p,
    "bwlimit",
    (value) =>
      (typeof value === "string" || typeof value === "number") && parseRate(value) !== undefined
        ? undefined
        : `must be ${RATE_WORDING}${typeof value === "string" ? "" : got(value)}`,
    undefined,
  );
  return raw === undefined ? undefined : parseRate(raw);
}
