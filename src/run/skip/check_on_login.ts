/**
 * The upload worker's side of the skip check on its own login
 * (`worker_check.ts` is the run's side): the listed files' check
 * (`remote_check.ts`) over the worker's connection, and what it decided,
 * learned and said, by job id, for the reply.
 *
 * @module
 */

import type { Session } from "../../ftp/session.ts";
import type { CheckReply, CheckRequest, UploadSettings } from "../pool/messages.ts";
import { checkRemote } from "./remote_check.ts";

/**
 * The worker's side: the check over its own connection (`live`), further
 * connections only where the folders make them worth it; what it learned
 * and said goes back in the reply.
 */
export async function runCheck(
  live: () => Promise<Session>,
  settings: UploadSettings,
  request: CheckRequest,
  hooks: { missing: (alone: boolean) => void; signal: AbortSignal },
): Promise<CheckReply> {
  const logs: string[] = [];
  const clock = request.clock;
  const check = await checkRemote({
    jobs: request.jobs,
    rule: request.rule,
    login: settings.server,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    ...(settings.backoffBaseMs !== undefined ? { backoffBaseMs: settings.backoffBaseMs } : {}),
    ...(settings.backoffMaxMs !== undefined ? { backoffMaxMs: settings.backoffMaxMs } : {}),
    connections: request.connections,
    log: (line) => logs.push(line),
    signal: hooks.signal,
    onMissing: hooks.missing,
    oneOnceMissing: true,
    ...(clock ? { clock } : {}),
    own: live,
  });
  return {
    send: check.send.map((j) => j.id),
    skipped: check.skipped.map((s) => ({ id: s.job.id, reason: s.reason })),
    notes: check.notes,
    logs,
    ...(clock ? { clock } : {}),
    ...(check.loginRefused ? { loginRefused: check.loginRefused } : {}),
  };
}
