/**
 * The network keys (`src/config/network.ts`): `server.active`, `activeAddress`,
 * `activePorts`, `epsv`, `options.bwlimit`: read when right, each mistake
 * named by its JSON path (exit 2 through the CLI, like every config error).
 */

import assert from "node:assert/strict";
import { ConfigError, type ConfigProblem } from "../../src/config/errors.ts";
import { parseConfig } from "../../src/config/load.ts";

const PATH = "/srv/conf/ftpbatch.json";

function config(server: Record<string, unknown>, options: Record<string, unknown> = {}) {
  return JSON.stringify({
    server: { host: "ftp.example.com", ...server },
    options,
    files: [{ source: "a.txt", destination: "/a.txt" }],
  });
}

async function problems(text: string): Promise<ConfigProblem[]> {
  try {
    await parseConfig(text, PATH);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("network keys are read", async () => {
  const c = await parseConfig(
    config(
      { active: true, activeAddress: "203.0.113.7", activePorts: [50000, 50100], epsv: false },
      { bwlimit: "512K" },
    ),
    PATH,
  );
  assert.equal(c.server.active, true);
  assert.equal(c.server.activeAddress, "203.0.113.7");
  assert.deepEqual(c.server.activePorts, [50000, 50100]);
  assert.equal(c.server.epsv, false);
  assert.equal(c.options.bwlimit, 512 * 1024);
  const plain = await parseConfig(config({}), PATH);
  assert.equal(plain.server.active, undefined);
  assert.equal(plain.server.epsv, undefined);
  assert.equal(plain.options.bwlimit, undefined);
  assert.equal(
    (await parseConfig(config({}, { bwlimit: 1048576 }), PATH)).options.bwlimit,
    1048576,
  );
});

Deno.test("each wrong network key is named by its path", async () => {
  const cases: [string, string, RegExp][] = [
    [config({ active: "yes" }), "server.active", /true or false/],
    [config({ epsv: 0 }), "server.epsv", /true or false \(got 0\)/],
    [config({ active: true, activeAddress: "my-host" }), "server.activeAddress", /IP address/],
    [
      config({ active: true, activePorts: [50100, 50000] }),
      "server.activePorts",
      /first not above last/,
    ],
    [
      config({ active: true, activePorts: "50000-50100" }),
      "server.activePorts",
      /\[50000, 50100\]/,
    ],
    [config({ active: true, activePorts: [80, 90] }), "server.activePorts", /from 1024/],
    [config({ activeAddress: "203.0.113.7" }), "server.activeAddress", /"active": true/],
    [config({}, { bwlimit: "fast" }), "options.bwlimit", /"512K", "2M"/],
    [config({}, { bwlimit: 0 }), "options.bwlimit", /got 0/],
    [config({}, { bwlimit: true }), "options.bwlimit", /rate/],
  ];
  for (const [text, path, message] of cases) {
    const found = await problems(text);
    assert.equal(found.length, 1, `${path}: ${JSON.stringify(found)}`);
    assert.equal(found[0].path, path);
    assert.match(found[0].message, message);
  }
});

Deno.test("activeAddress takes IPv4 and IPv6 literals only", async () => {
  for (const good of ["203.0.113.7", "::1", "2001:db8::7", "::ffff:192.0.2.1"]) {
    const c = await parseConfig(config({ active: true, activeAddress: good }), PATH);
    assert.equal(c.server.activeAddress, good);
  }
  for (const bad of ["256.1.1.1", "1.2.3", "ftp.example.com", "2001:db8::g", ":::::"]) {
    const found = await problems(config({ active: true, activeAddress: bad }));
    assert.deepEqual(found.map((p) => p.path), ["server.activeAddress"], bad);
  }
});
