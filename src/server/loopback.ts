/**
 * The only addresses a server of ours (embedded, test or bench) may listen on
 * or send test traffic to.
 *
 * @example
 * ```ts
 * import { isLoopback } from "./loopback.ts";
 * isLoopback("127.0.0.1"); // true
 * isLoopback("10.0.0.1"); // false
 * ```
 *
 * @module
 */

/** 127.0.0.0/8, ::1 or localhost: the only addresses a server of ours may listen on. */
export function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "::1" ||
    host === "localhost";
}
