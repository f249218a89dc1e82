/**
 * Moved to `src/report/run_messages.ts` (message texts belong with the
 * report); kept as a re-export until `pool.ts` imports it from there.
 *
 * @module
 */

export { connectRetryLine, unsentReason } from "../report/run_messages.ts";
