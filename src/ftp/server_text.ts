/**
 * Server text made safe to show: a server may echo the password or send
 * terminal escape sequences in any reply. Every reply text that reaches
 * stderr, a report or an NDJSON line passes through {@linkcode safeText}.
 *
 * @example
 * ```ts
 * import { safeText } from "./server_text.ts";
 * safeText("530 bad pass hunter2\x1b[2J", ["hunter2"]); // "530 bad pass ***\\x1b[2J"
 * ```
 *
 * @module
 */

/** Replaced for a secret wherever it appears. */
export const REDACTED = "***";

/**
 * Replaces each secret (non-empty) with `***` and escapes C0/C1 control
 * characters and DEL as `\xNN` (tab, CR and LF too: one line stays one line).
 */
export function safeText(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  return out.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
