import assert from "node:assert/strict";
import {
  backoffDelay,
  CERT_HINT,
  classifyError,
  ConnectError,
  OutageClock,
  RetryBudget,
  toConnectError,
  VerifyError,
} from "../../src/upload/retry.ts";
import {
  ConnectionLost,
  FTPError,
  LocalFileError,
  PartialUploadError,
  ProtocolError,
  TransferFailed,
} from "../../src/ftp/errors.ts";

const reply = (code: number, message: string) => new FTPError({ code, message });

Deno.test("classifyError: too many connections shrinks the pool, in 421 and 530 alike", () => {
  for (
    const e of [
      reply(421, "421 There are too many connections from your internet address."),
      reply(530, "530 Sorry, too many users"),
      reply(421, "421 No more connections allowed"),
      // ProFTPD's per-host limit (MaxClientsPerHost) answers the login with 530.
      reply(
        530,
        "530 Sorry, the maximum number of clients (2) from your host are already connected.",
      ),
      reply(421, "421 Connection limit reached"),
    ]
  ) assert.equal(classifyError(e), "tooMany", e.message);
  assert.equal(
    toConnectError(
      reply(
        530,
        "530 Sorry, the maximum number of clients (2) from your host are already connected.",
      ),
      String,
    ).kind,
    "tooMany",
  );
  assert.equal(toConnectError(reply(530, "530 Login incorrect."), String).kind, "auth");
});

Deno.test("classifyError: lost connections reconnect; an idle drop reconnects at once", () => {
  assert.equal(classifyError(reply(421, "421 Timeout.")), "reconnect");
  assert.equal(classifyError(new ConnectionLost("Server closed connection")), "reconnect");
  assert.equal(classifyError(new ConnectionLost("Server closed connection", true)), "reconnectNow");
  assert.equal(classifyError(new Error("read ECONNRESET")), "reconnect");
  assert.equal(
    classifyError(new PartialUploadError(new Error("Timeout (data socket)"), 5, 0)),
    "reconnect",
  );
  assert.equal(classifyError(new ConnectError("unreachable", "ECONNREFUSED")), "unreachable");
});

Deno.test("classifyError: 4xx and transient 5xx retry; other 5xx, 530 and local problems are final", () => {
  assert.equal(classifyError(reply(426, "Connection closed; transfer aborted.")), "retry");
  assert.equal(classifyError(reply(451, "Local error")), "retry");
  assert.equal(classifyError(reply(550, "Broken pipe")), "retry");
  assert.equal(classifyError(reply(550, "Permission denied.")), "fatal");
  assert.equal(classifyError(reply(553, "Could not create file.")), "fatal");
  assert.equal(classifyError(reply(530, "Login incorrect.")), "fatal");
  assert.equal(classifyError(new LocalFileError("gone")), "fatal");
  assert.equal(classifyError(new ProtocolError("unreadable SIZE reply")), "fatal");
  assert.equal(classifyError(new VerifyError("size check failed")), "retry");
  assert.equal(classifyError(new ConnectError("auth", "530")), "fatal");
  // Decided by class, not by a name an error happens to carry.
  const named = Object.assign(new Error("x"), { name: "LocalFileError" });
  assert.equal(classifyError(named), "reconnect");
});

Deno.test("classifyError: 452/552 mean the server is full, during a transfer too", () => {
  assert.equal(classifyError(reply(552, "552 Disk full")), "full");
  assert.equal(classifyError(reply(452, "452 Insufficient storage space")), "full");
  const cut = new PartialUploadError(reply(552, "552 Quota exceeded"), 1000, 0);
  assert.equal(classifyError(cut), "full");
  assert.equal(classifyError(new TransferFailed(reply(452, "452 No space"), 10)), "full");
});

Deno.test("an untrusted TLS certificate is fatal at once, with the DENO_CERT hint", () => {
  const deno = new Error("invalid peer certificate: UnknownIssuer");
  assert.equal(classifyError(deno), "fatal");
  const node = Object.assign(new Error("self-signed certificate in certificate chain"), {
    code: "SELF_SIGNED_CERT_IN_CHAIN",
  });
  assert.equal(classifyError(node), "fatal");
  const c = toConnectError(deno, (e) => (e as Error).message);
  assert.equal(c.kind, "certificate");
  assert.ok(c.message.includes(CERT_HINT), c.message);
  assert.equal(toConnectError(new Error("connect ECONNREFUSED"), String).kind, "unreachable");
});

Deno.test("backoffDelay doubles from the base, caps at the max, jitters the upper half", () => {
  assert.equal(backoffDelay(1, 1000, 30000, () => 0), 500);
  assert.equal(backoffDelay(1, 1000, 30000, () => 1), 1000);
  assert.equal(backoffDelay(3, 1000, 30000, () => 1), 4000);
  assert.equal(backoffDelay(10, 1000, 30000, () => 1), 30000);
  assert.equal(backoffDelay(10, 1000, 30000, () => 0), 15000);
  assert.equal(backoffDelay(2, 0, 30000, () => 0.5), 0);
});

const timing = { retries: 2, backoffBaseMs: 100, backoffMaxMs: 1000 };

Deno.test("RetryBudget: retries+1 tries, a pause before each retry", () => {
  const b = new RetryBudget(timing);
  for (let i = 1; i <= 3; i++) {
    b.start();
    const pause = b.after("reconnect");
    if (i <= 2) assert.ok(pause !== undefined && pause > 0, `try ${i}`);
    else assert.equal(pause, undefined);
  }
  assert.equal(b.tries, 3);
});

Deno.test("RetryBudget: an idle drop is free and without a pause, once per operation", () => {
  const b = new RetryBudget(timing);
  b.start();
  assert.equal(b.after("reconnectNow"), 0);
  assert.equal(b.tries, 0);
  b.start();
  const second = b.after("reconnectNow");
  assert.ok(second !== undefined && second > 0, "the second drop in a row pauses");
  assert.equal(b.tries, 1);
});

Deno.test("RetryBudget: an outage is counted by time, not by tries", () => {
  let now = 0;
  const clock = new OutageClock(2000, () => now);
  const b = new RetryBudget({ ...timing, retries: 1 }, clock);
  // Ten refused reconnects within the window spend nothing.
  for (let i = 0; i < 10; i++) {
    b.start();
    assert.ok(b.after("unreachable") !== undefined);
    now += 150;
  }
  assert.equal(b.tries, 0);
  // Past the window, each counts.
  now += 2000;
  b.start();
  assert.ok(b.after("unreachable") !== undefined);
  b.start();
  assert.equal(b.after("unreachable"), undefined);
  assert.equal(b.tries, 2);
  // Without a clock (a first connect), an unreachable server spends tries.
  const first = new RetryBudget({ ...timing, retries: 0 });
  first.start();
  assert.equal(first.after("unreachable"), undefined);
});

Deno.test("PoolRetry: a refused slot is tried again by time while others work; a lost worker is replaced a bounded number of times", async () => {
  const { PoolRetry, stallLimitMs } = await import("../../src/upload/retry.ts");
  const timing = { retries: 2, backoffBaseMs: 100, backoffMaxMs: 1000 };
  const p = new PoolRetry(timing, 2);
  // Others still work: never given up on, the pause grows to the ceiling.
  const pauses = Array.from({ length: 8 }, () => p.refused(true, true)!);
  assert.ok(pauses.every((ms) => ms > 0 && ms <= 1000), String(pauses));
  // Never logged in and nobody left: given up after retries + 1 refusals in a row.
  const q = new PoolRetry(timing, 2);
  assert.ok(q.refused(false, false) !== undefined);
  assert.ok(q.refused(false, false) !== undefined);
  assert.ok(q.refused(false, false) !== undefined);
  assert.equal(q.refused(false, false), undefined);
  q.loggedIn();
  assert.ok(q.refused(false, false) !== undefined, "a login starts the count over");
  assert.deepEqual(Array.from({ length: 7 }, () => p.replace()), [
    true,
    true,
    true,
    true,
    true,
    true,
    false,
  ]);
  assert.equal(stallLimitMs({ ...timing, timeoutMs: 2000 }), 7000);
});
