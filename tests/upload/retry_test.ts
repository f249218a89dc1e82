import assert from "node:assert/strict";
import { backoffDelay, classifyError } from "../../src/upload/retry.ts";

Deno.test("classifyError: too many connections shrinks the pool", () => {
  assert.equal(
    classifyError({
      code: 421,
      message: "There are too many connections from your internet address.",
    }),
    "tooMany",
  );
  assert.equal(classifyError({ code: 530, message: "Sorry, too many users" }), "tooMany");
  assert.equal(classifyError({ code: 421, message: "No more connections allowed" }), "tooMany");
});

Deno.test("classifyError: lost connections reconnect", () => {
  assert.equal(classifyError({ code: 421, message: "Timeout." }), "reconnect");
  assert.equal(
    classifyError({ message: "Server sent FIN packet unexpectedly, closing connection." }),
    "reconnect",
  );
  assert.equal(classifyError({ code: "ECONNRESET", message: "read ECONNRESET" }), "reconnect");
  assert.equal(classifyError({ message: "Timeout (data socket)" }), "reconnect");
});

Deno.test("classifyError: 4xx and transient 5xx retry; other 5xx and 530 are final", () => {
  assert.equal(
    classifyError({ code: 426, message: "Connection closed; transfer aborted." }),
    "retry",
  );
  assert.equal(classifyError({ code: 451, message: "Local error" }), "retry");
  assert.equal(classifyError({ code: 550, message: "Broken pipe" }), "retry");
  assert.equal(classifyError({ code: 550, message: "Permission denied." }), "fatal");
  assert.equal(classifyError({ code: 553, message: "Could not create file." }), "fatal");
  assert.equal(classifyError({ code: 530, message: "Login incorrect." }), "fatal");
  assert.equal(classifyError({ name: "LocalFileError", message: "gone" }), "fatal");
  assert.equal(classifyError({ name: "ProtocolError", message: "unreadable SIZE reply" }), "fatal");
});

Deno.test("backoffDelay doubles from the base, caps at the max, jitters the upper half", () => {
  assert.equal(backoffDelay(1, 1000, 30000, () => 0), 500);
  assert.equal(backoffDelay(1, 1000, 30000, () => 1), 1000);
  assert.equal(backoffDelay(3, 1000, 30000, () => 1), 4000);
  assert.equal(backoffDelay(10, 1000, 30000, () => 1), 30000);
  assert.equal(backoffDelay(10, 1000, 30000, () => 0), 15000);
  assert.equal(backoffDelay(2, 0, 30000, () => 0.5), 0);
});
