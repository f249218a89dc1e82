/**
 * Where and how a session logs in: the one shape both transports and the
 * upload layer share.
 *
 * @module
 */

import type { BandwidthShare } from "./bandwidth.ts";
import type { ActiveSettings } from "./active.ts";

/** Where and how to log in, and how the connection sends; the password is already resolved. */
export interface FtpLogin {
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** `false` = plain FTP, `true` = explicit FTPS (AUTH TLS), `"implicit"` = implicit FTPS. */
  secure: boolean | "implicit";
  /** The server's encoding for names (`encoding.ts`); absent or `utf8` = UTF-8. */
  encoding?: string;
  /** The run's upload rate limit, shared by all its connections (`bandwidth.ts`). */
  bandwidth?: BandwidthShare;
  /** Active mode (`server.active`, `activeAddress`, `activePorts`): see `active.ts`. */
  active?: ActiveSettings;
  /** `false`: PASV only, never EPSV (`server.epsv`). */
  epsv?: boolean;
  /** Set by the connection that finds EPSV's data connections failing (`passive.ts`). */
  epsvLearned?: SharedArrayBuffer;
}
