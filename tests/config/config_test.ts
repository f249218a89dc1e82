import assert from "node:assert/strict";
import { resolve } from "node:path";
import { ConfigError, type ConfigProblem } from "../../src/config/errors.ts";
import { loadConfig, parseConfig } from "../../src/config/load.ts";
import { resolvePassword } from "../../src/config/password.ts";
import { TEMP_MARK, tempPathFor } from "../../src/upload/temp_name.ts";
import { type Config, DEFAULT_OPTIONS, type ServerConfig } from "../../src/config/types.ts";

// Deliberately not the cwd, so relative paths must resolve against it.
const CONFIG_PATH = "/srv/deploy/conf/ftpbatch.json";
const SECRET = "s3cr3t-P@ss";

type Json = Record<string, unknown>;

function valid(): Json {
  return {
    server: { host: "ftp.example.com" },
    files: [{ source: "a.txt", destination: "/in/a.txt" }],
  };
}

/** A valid config with `change` applied to a copy of it. */
function edit(change: (c: Json & { server: Json; files: Json[] }) => void) {
  const config = structuredClone(valid()) as Json & {
    server: Json;
    files: Json[];
  };
  change(config);
  return config;
}

function parse(config: unknown): Promise<Config> {
  return parseConfig(
    typeof config === "string" ? config : JSON.stringify(config),
    CONFIG_PATH,
  );
}

async function problemsOf(config: unknown): Promise<ConfigProblem[]> {
  try {
    await parse(config);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${e}`);
    return e.problems;
  }
  assert.fail("expected a ConfigError");
}

/** Asserts a problem at exactly `path` whose message contains `fragment`. */
async function assertProblem(config: unknown, path: string, fragment: string) {
  const problems = await problemsOf(config);
  const found = problems.filter((p) => p.path === path);
  assert.ok(
    found.some((p) => p.message.includes(fragment)),
    `no problem at ${path} containing ${JSON.stringify(fragment)}; got ${
      JSON.stringify(problems, null, 2)
    }`,
  );
}

// --- valid configs and defaults ---

Deno.test("minimal config gets defaults", async () => {
  const config = await parse(valid());
  assert.deepEqual(config, {
    configPath: CONFIG_PATH,
    server: { host: "ftp.example.com", port: 21, secure: false, encoding: "utf8" },
    options: { ...DEFAULT_OPTIONS },
    files: [{
      index: 0,
      source: "/srv/deploy/conf/a.txt",
      destination: "/in/a.txt",
    }],
  });
});

Deno.test("the documented example config parses", async () => {
  const config = await parse({
    server: {
      host: "ftp.example.com",
      port: 2121,
      user: "deploy",
      password: SECRET,
      passwordEnv: "FTP_PASSWORD",
      secure: true,
    },
    options: {
      workers: 8,
      retries: 0,
      report: "report.json",
      atomic: false,
      verify: "hash",
      skip: "size",
      backoffBaseMs: 0,
      backoffMaxMs: 3600000,
      timeoutMs: 1000,
    },
    files: [
      {
        source: "docs/План.txt",
        destination: "/incoming/документы/План.txt",
      },
      { source: "img/photo 1.jpg", destination: "/incoming/img/" },
    ],
  });
  assert.deepEqual(config.server, {
    host: "ftp.example.com",
    port: 2121,
    user: "deploy",
    password: SECRET,
    passwordEnv: "FTP_PASSWORD",
    secure: true,
    encoding: "utf8",
  });
  assert.deepEqual(config.options, {
    workers: 8,
    retries: 0,
    report: "/srv/deploy/conf/report.json",
    atomic: false,
    verify: "hash",
    skip: "size",
    backoffBaseMs: 0,
    backoffMaxMs: 3600000,
    timeoutMs: 1000,
  });
  assert.deepEqual(config.files.map((f) => f.destination), [
    "/incoming/документы/План.txt",
    "/incoming/img/photo 1.jpg",
  ]);
});

Deno.test("a UTF-8 BOM is ignored", async () => {
  assert.equal((await parse("\uFEFF" + JSON.stringify(valid()))).server.port, 21);
});

// --- structure and unknown keys ---

Deno.test("top level must be an object", async () => {
  await assertProblem("[]", "(root)", "must be a JSON object");
  await assertProblem("42", "(root)", "must be a JSON object");
});

Deno.test("server and files are required", async () => {
  const problems = await problemsOf({});
  assert.deepEqual(problems.map((p) => p.path), ["server", "files"]);
  assert.match(problems[0].message, /missing; add "server"/);
  assert.match(problems[1].message, /missing; add "files"/);
});

Deno.test("options is optional but must be an object", async () => {
  await assertProblem(
    edit((c) => (c.options = [])),
    "options",
    "must be an object",
  );
});

Deno.test("unknown keys are errors naming the path and the known keys", async () => {
  await assertProblem(
    edit((c) => (c.extra = 1)),
    "extra",
    "unknown key; known keys are server, options, files",
  );
  await assertProblem(
    edit((c) => (c.server.pasword = "x")),
    "server.pasword",
    "unknown key; known keys are host, port, user, password, passwordEnv, secure",
  );
  await assertProblem(
    edit((c) => (c.options = { worker: 2 })),
    "options.worker",
    "known keys are workers, retries, report,",
  );
  await assertProblem(
    edit((c) => (c.files[0].mode = "0644")),
    "files[0].mode",
    "known keys are source, destination",
  );
});

// --- JSON syntax ---

/** The "(json)" problem for `text`, checking there is exactly one. */
async function jsonProblem(text: string): Promise<string> {
  const problems = await problemsOf(text);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, "(json)");
  return problems[0].message;
}

Deno.test("broken JSON reports line and column", async () => {
  // Trailing comma: V8's message has no position for this one.
  const text = '{\n  "server": { "host": "h" },\n  "files": [],\n}';
  assert.match(await jsonProblem(text), /^invalid JSON at line 4, column 1: /);
  assert.match(await jsonProblem(text), /no comma after the last property/);
  assert.match(
    await jsonProblem('{\n  "files": [1,]\n}'),
    /line 2, column 15: .*no comma after the last item/,
  );
  assert.match(
    await jsonProblem('{\n  "a": 1\n  "b": 2\n}'),
    /line 3, column 3: expected ',' or '}'; a comma may be missing/,
  );
  assert.match(await jsonProblem(""), /line 1, column 1: unexpected end of text/);
  assert.match(await jsonProblem('{"a": 1'), /line 1, column 8: .*missing '}'/);
  assert.match(
    await jsonProblem('{\n  // note\n  "a": 1}'),
    /line 2, column 3: comments are not allowed/,
  );
  assert.match(
    await jsonProblem('{"a": "C:\\dir"}'),
    /line 1, column 11: invalid escape/,
  );
});

Deno.test("JSON error columns count characters, not UTF-16 units", async () => {
  // In UTF-16 units the "}" would be at column 10.
  assert.match(await jsonProblem('{"😀": 1,}'), /line 1, column 9:/);
});

Deno.test("JSON error line/column agree with V8 where V8 gives them", async () => {
  const cases = [
    '{"a": 1 "b": 2}',
    '{\n  "a": "x\ny"\n}',
    '{\n  "port": -\n}',
    '{\n\n  "n": 1.e5}',
    '{"a": 1}}',
    '{\n "a": [1 2]}',
    '{"a": "\\u12G4"}',
    '{"a": 01}',
  ];
  for (const text of cases) {
    let v8 = "";
    try {
      JSON.parse(text);
    } catch (e) {
      v8 = (e as Error).message;
    }
    const expected = /\(line (\d+) column (\d+)\)/.exec(v8);
    assert.ok(expected, `V8 gave no position for ${JSON.stringify(text)}`);
    assert.match(
      await jsonProblem(text),
      new RegExp(`line ${expected[1]}, column ${expected[2]}:`),
      JSON.stringify(text),
    );
  }
});

Deno.test("JSON errors never quote the text, which may hold a password", async () => {
  // V8's own message for this would quote the whole text.
  const text = `{"server": {"host": "h", "password": "${SECRET}",}}`;
  const message = await jsonProblem(text);
  assert.ok(!message.includes(SECRET), message);
});

// --- server ---

Deno.test("server.host must be a non-empty string without spaces or control chars", async () => {
  await assertProblem(
    edit((c) => delete c.server.host),
    "server.host",
    'missing; add the server name, e.g. "host"',
  );
  await assertProblem(edit((c) => (c.server.host = "")), "server.host", "not be empty");
  await assertProblem(edit((c) => (c.server.host = 21)), "server.host", "must be a string");
  await assertProblem(
    edit((c) => (c.server.host = "ftp example.com")),
    "server.host",
    "must not contain spaces",
  );
  await assertProblem(
    edit((c) => (c.server.host = "ftp.example.com\r\nUSER x")),
    "server.host",
    "must not contain control characters",
  );
  await assertProblem(
    edit((c) => (c.server.host = "ftp://ftp.example.com")),
    "server.host",
    'without "ftp://"',
  );
});

Deno.test("server.port must be an integer from 1 to 65535", async () => {
  for (const port of [0, 65536, 21.5, "21", null]) {
    await assertProblem(
      edit((c) => (c.server.port = port)),
      "server.port",
      "must be an integer from 1 to 65535",
    );
  }
  await assertProblem(
    edit((c) => (c.server.port = "21")),
    "server.port",
    "(got a string)",
  );
  assert.equal((await parse(edit((c) => (c.server.port = 65535)))).server.port, 65535);
});

Deno.test("server.port defaults to 21, or 990 for implicit FTPS", async () => {
  assert.equal((await parse(valid())).server.port, 21);
  assert.equal((await parse(edit((c) => (c.server.secure = true)))).server.port, 21);
  const implicit = (await parse(edit((c) => (c.server.secure = "implicit")))).server;
  assert.equal(implicit.port, 990);
  assert.equal(implicit.secure, "implicit");
  assert.equal(
    (await parse(edit((c) => (c.server = { host: "h", secure: "implicit", port: 2990 }))))
      .server.port,
    2990,
  );
});

Deno.test("server.user is optional but not empty", async () => {
  assert.ok(!("user" in (await parse(valid())).server));
  assert.equal((await parse(edit((c) => (c.server.user = "deploy")))).server.user, "deploy");
  await assertProblem(edit((c) => (c.server.user = "")), "server.user", "not be empty");
  await assertProblem(
    edit((c) => (c.server.user = "a\nb")),
    "server.user",
    "must not contain control characters",
  );
});

Deno.test("server.password is an optional string without CR, LF or NUL", async () => {
  assert.equal((await parse(edit((c) => (c.server.password = "")))).server.password, "");
  assert.equal(
    (await parse(edit((c) => (c.server.password = "tab\there")))).server.password,
    "tab\there",
  );
  await assertProblem(
    edit((c) => (c.server.password = 1234)),
    "server.password",
    "must be a string (got a number)",
  );
  // A numeric password is never shown, not even in the type error.
  for (const p of await problemsOf(edit((c) => (c.server.password = 987654321)))) {
    assert.ok(!p.message.includes("987654321"), p.message);
  }
  for (const bad of ["x\r\nQUIT", "x\0y", "x\ny"]) {
    const problems = await problemsOf(edit((c) => (c.server.password = bad)));
    assert.equal(problems[0].path, "server.password");
    assert.match(problems[0].message, /must not contain control characters/);
  }
});

Deno.test("server.passwordEnv must look like an environment variable name", async () => {
  assert.equal(
    (await parse(edit((c) => (c.server.passwordEnv = "_FTP_pass2")))).server
      .passwordEnv,
    "_FTP_pass2",
  );
  for (const bad of ["1PASS", "FTP-PASSWORD", "$FTP_PASSWORD", "A B"]) {
    await assertProblem(
      edit((c) => (c.server.passwordEnv = bad)),
      "server.passwordEnv",
      "must be an environment variable name",
    );
  }
  await assertProblem(
    edit((c) => (c.server.passwordEnv = "")),
    "server.passwordEnv",
    "not be empty",
  );
});

Deno.test('server.secure must be a boolean or "implicit"', async () => {
  for (const bad of ["yes", "explicit", 1, null]) {
    await assertProblem(
      edit((c) => (c.server.secure = bad)),
      "server.secure",
      'must be false (plain FTP), true (explicit FTPS) or "implicit"',
    );
  }
  await assertProblem(
    edit((c) => (c.server.secure = 1)),
    "server.secure",
    "(got 1)",
  );
  assert.equal((await parse(valid())).server.secure, false);
});

// --- options ---

Deno.test("options default to DEFAULT_OPTIONS, without report", async () => {
  assert.deepEqual((await parse(edit((c) => (c.options = {})))).options, {
    ...DEFAULT_OPTIONS,
  });
});

async function assertOption(name: string, bad: unknown[], fragment: string) {
  for (const value of bad) {
    await assertProblem(
      edit((c) => (c.options = { [name]: value })),
      `options.${name}`,
      fragment,
    );
  }
}

Deno.test("options.workers must be an integer from 1 to 64", async () => {
  await assertOption("workers", [0, 65, 2.5, "4"], "must be an integer from 1 to 64");
  assert.equal((await parse(edit((c) => (c.options = { workers: 64 })))).options.workers, 64);
});

Deno.test("options.retries must be an integer from 0 to 100", async () => {
  await assertOption("retries", [-1, 101, true], "must be an integer from 0 to 100");
  assert.equal((await parse(edit((c) => (c.options = { retries: 0 })))).options.retries, 0);
});

Deno.test("options.report is a non-empty path resolved against the config folder", async () => {
  await assertOption("report", [""], "must not be empty");
  await assertOption("report", [1], "must be a string");
  await assertOption("report", ["a\nb.json"], "control characters");
  const report = async (r: string) =>
    (await parse(edit((c) => (c.options = { report: r })))).options.report;
  assert.equal(await report("out/report.json"), "/srv/deploy/conf/out/report.json");
  assert.equal(await report("../r.json"), "/srv/deploy/r.json");
  assert.equal(await report("/var/log/r.json"), "/var/log/r.json");
});

Deno.test("options.atomic must be a boolean", async () => {
  await assertOption("atomic", ["true", 1, null], "must be true or false");
});

Deno.test('options.verify must be "size" or "hash"', async () => {
  await assertOption("verify", ["md5", "", 1], 'must be "size" or "hash"');
  await assertOption("verify", [1], "(got 1)");
});

Deno.test('options.skip is "size+mtime" (the default), "size+newer", "size" or "none"', async () => {
  await assertOption(
    "skip",
    ["mtime", "SIZE", "", true, null],
    'must be "size+mtime", "size+newer", "size" or "none"',
  );
  assert.equal((await parse(edit((c) => (c.options = {})))).options.skip, "size+mtime");
  for (const rule of ["size+mtime", "size+newer", "size", "none"]) {
    assert.equal((await parse(edit((c) => (c.options = { skip: rule })))).options.skip, rule);
  }
});

Deno.test("options.backoffBaseMs must be an integer from 0 to 600000", async () => {
  await assertOption(
    "backoffBaseMs",
    [-1, 600001, 1.5],
    "must be an integer from 0 to 600000",
  );
});

Deno.test("options.backoffMaxMs must be from backoffBaseMs to 3600000", async () => {
  await assertOption(
    "backoffMaxMs",
    [999, 3600001],
    "must be an integer from 1000 to 3600000 (not less than backoffBaseMs)",
  );
  await assertProblem(
    edit((c) => (c.options = { backoffBaseMs: 5000, backoffMaxMs: 4000 })),
    "options.backoffMaxMs",
    "must be an integer from 5000 to 3600000",
  );
  // The default maximum (30000) is below this base: the user must set it.
  await assertProblem(
    edit((c) => (c.options = { backoffBaseMs: 60000 })),
    "options.backoffMaxMs",
    "defaults to 30000, less than backoffBaseMs (60000); set it to an integer from 60000",
  );
  const { options } = await parse(
    edit((c) => (c.options = { backoffBaseMs: 500, backoffMaxMs: 500 })),
  );
  assert.equal(options.backoffMaxMs, 500);
});

Deno.test("options.timeoutMs must be an integer from 1000 to 3600000", async () => {
  await assertOption(
    "timeoutMs",
    [999, 3600001, "30s"],
    "must be an integer from 1000 to 3600000",
  );
});

// --- files ---

Deno.test("files must be a non-empty array", async () => {
  await assertProblem(edit((c) => (c.files = [])), "files", "must be a non-empty array");
  await assertProblem(edit((c) => (c.files = [])), "files", "(got an empty array)");
  await assertProblem(
    edit((c) => ((c as Json).files = { source: "a" })),
    "files",
    "must be a non-empty array",
  );
});

Deno.test("each files entry is an object with exactly source and destination", async () => {
  await assertProblem(
    edit((c) => ((c as Json).files = ["a.txt"])),
    "files[0]",
    'must be an object like { "source"',
  );
  await assertProblem(
    edit((c) => delete c.files[0].source),
    "files[0].source",
    "missing; add the local file or folder path",
  );
  await assertProblem(
    edit((c) => delete c.files[0].destination),
    "files[0].destination",
    "missing; add the remote file path",
  );
  await assertProblem(
    edit((c) => (c.files[0].dest = "/x")),
    "files[0].dest",
    "unknown key",
  );
});

Deno.test("source and destination must be non-empty strings", async () => {
  for (const key of ["source", "destination"]) {
    await assertProblem(edit((c) => (c.files[0][key] = "")), `files[0].${key}`, "not be empty");
    await assertProblem(
      edit((c) => (c.files[0][key] = ["a"])),
      `files[0].${key}`,
      "must be a string (got an array)",
    );
  }
});

Deno.test("no control characters in source or destination", async () => {
  for (const bad of ["\r", "\n", "\0", "\t", "\u0001", "\u001f", "\u007f"]) {
    for (const key of ["source", "destination"]) {
      await assertProblem(
        edit((c) => (c.files[0][key] = `/in/a${bad}b.txt`)),
        `files[0].${key}`,
        "must not contain control characters",
      );
    }
  }
  await assertProblem(
    edit((c) => (c.files[0].source = "a\tb")),
    "files[0].source",
    "(found U+0009)",
  );
});

Deno.test("a source written as a folder is a folder entry: its destination names the remote folder", async () => {
  for (
    const [source, destination, folder] of [
      ["docs/", "/in/", "/in"],
      ["docs/", "/in", "/in"],
      ["docs/", "/", "/"],
    ]
  ) {
    const entry = (await parse(edit((c) => (c.files = [{ source, destination }])))).files[0];
    assert.equal(entry.destination, folder);
    assert.deepEqual(entry.tree, {
      include: [],
      exclude: [],
      followSymlinks: false,
      declaredBy: "source",
    });
  }
  const dot =
    (await parse(edit((c) => (c.files = [{ source: ".", destination: "/in/" }])))).files[0];
  assert.equal(dot.destination, "/in");
  assert.equal(dot.tree?.declaredBy, "source");
  // A plain name: its kind is known only when the source is looked at; the folder is kept.
  const auto =
    (await parse(edit((c) => (c.files = [{ source: "site", destination: "/in/" }])))).files[0];
  assert.equal(auto.tree, undefined);
  assert.equal(auto.destination, "/in/site");
  assert.equal(auto.folderDestination, "/in");
});

Deno.test("folder entries: include, exclude and followSymlinks", async () => {
  const entry = (await parse(edit((c) => {
    c.files = [{
      source: "site",
      destination: "/www/",
      include: ["**/*.html", "img/**"],
      exclude: ["**/*.log"],
      followSymlinks: true,
    }];
  }))).files[0];
  assert.equal(entry.destination, "/www");
  assert.deepEqual(entry.tree, {
    include: ["**/*.html", "img/**"],
    exclude: ["**/*.log"],
    followSymlinks: true,
    declaredBy: "include",
  });
  const bad = (change: Json, path: string, fragment: string) =>
    assertProblem(
      edit((c) => (c.files = [{ source: "site", destination: "/www", ...change }])),
      path,
      fragment,
    );
  await bad({ include: "**/*.log" }, "files[0].include", "must be an array of globs");
  await bad({ exclude: [3] }, "files[0].exclude[0]", "must be a string");
  await bad({ exclude: ["ok/**", ""] }, "files[0].exclude[1]", "must not be empty");
  await bad({ include: ["[abc"] }, "files[0].include[0]", "is not a valid glob");
  await bad({ include: ["/abs/**"] }, "files[0].include[0]", "relative to the folder");
  await bad({ followSymlinks: "yes" }, "files[0].followSymlinks", "must be true or false");
  await bad({ exclude: ["a"], destination: "/../x" }, "files[0].destination", '".."');
});

Deno.test("folder entries: two folders must not share a remote tree, nor a file's path", async () => {
  await assertProblem(
    edit((c) => {
      c.files = [
        { source: "a/", destination: "/www" },
        { source: "b/", destination: "/www/sub/" },
      ];
    }),
    "files[1].destination",
    "overlaps the folder files[0] uploads to",
  );
  await assertProblem(
    edit((c) => {
      c.files = [
        { source: "a.txt", destination: "/www" },
        { source: "b/", destination: "/www" },
      ];
    }),
    "files[1].destination",
    "is the destination file of files[0]",
  );
  // A listed file inside a folder's remote tree is fine (the listed entry wins for its path).
  await parse(edit((c) => {
    c.files = [
      { source: "site/", destination: "/www" },
      { source: "extra.txt", destination: "/www/extra.txt" },
    ];
  }));
});

/** The example config with `files` in place of its own. */
function parseFiles(files: { source: string; destination: string }[]) {
  return parse(edit((c) => (c.files = files)));
}

Deno.test("relative sources resolve against the config folder, not the cwd", async () => {
  const config = await parseFiles([
    { source: "docs/План.txt", destination: "/a" },
    { source: "../shared/b.txt", destination: "/b" },
    { source: "/abs/c.txt", destination: "/c" },
    { source: "./d.txt", destination: "/d" },
  ]);
  assert.deepEqual(config.files.map((f) => f.source), [
    "/srv/deploy/conf/docs/План.txt",
    "/srv/deploy/shared/b.txt",
    "/abs/c.txt",
    "/srv/deploy/conf/d.txt",
  ]);
  assert.deepEqual(config.files.map((f) => f.index), [0, 1, 2, 3]);
  assert.notEqual(config.files[0].source, resolve("docs/План.txt"));
});

Deno.test("destination must be absolute", async () => {
  await assertProblem(
    edit((c) => (c.files[0].destination = "in/a.txt")),
    "files[0].destination",
    'must be an absolute remote path starting with "/", e.g. "/in/a.txt"',
  );
});

/** Each of `bad` as `files[0].destination` is refused with `message`. */
async function refuseDestinations(bad: string[], message: string): Promise<void> {
  for (const destination of bad) {
    await assertProblem(
      edit((c) => (c.files[0].destination = destination)),
      "files[0].destination",
      message,
    );
  }
}

Deno.test("destination must not contain a .. segment", async () => {
  await refuseDestinations(
    ["/in/../a.txt", "/../a.txt", "/in/.."],
    'must not contain ".." segments',
  );
  // ".." inside a name is fine.
  assert.equal(
    (await parse(edit((c) => (c.files[0].destination = "/in/a..b.txt")))).files[0]
      .destination,
    "/in/a..b.txt",
  );
});

Deno.test("destination must not be / alone or name a folder", async () => {
  await refuseDestinations(["/", "//", "/./"], "must name a file, not the root folder");
  await refuseDestinations(["/in/.", "/in/./."], 'names a folder; end it with "/"');
});

Deno.test("trailing / destinations keep non-ASCII source names", async () => {
  const config = await parseFiles([
    { source: "docs/План.txt", destination: "/incoming/документы/" },
    { source: "日本語.txt", destination: "/incoming/日本//" },
    { source: "x/café ☕.txt", destination: "/incoming/./" },
  ]);
  assert.deepEqual(config.files.map((f) => f.destination), [
    "/incoming/документы/План.txt",
    "/incoming/日本/日本語.txt",
    "/incoming/café ☕.txt",
  ]);
});

Deno.test("destinations are NFC-normalized", async () => {
  const nfd = "cafe\u0301 \u2615.txt";
  const config = await parse(edit((c) => {
    c.files = [
      { source: "a.txt", destination: `/in/${nfd}` },
      { source: `dir/${nfd}`, destination: "/out/" },
    ];
  }));
  assert.deepEqual(config.files.map((f) => f.destination), [
    "/in/caf\u00e9 \u2615.txt",
    "/out/caf\u00e9 \u2615.txt",
  ]);
  // The source stays as written: the local file really has the NFD name.
  assert.equal(config.files[1].source, `/srv/deploy/conf/dir/${nfd}`);
});

Deno.test("duplicate destinations name both entries", async () => {
  const files = [
    { source: "a.txt", destination: "/a/b.txt" },
    { source: "x.txt", destination: "/x.txt" },
    { source: "b.txt", destination: "/a/" },
    { source: "c.txt", destination: "//a/./b.txt" },
    { source: "d.txt", destination: "/a/cafe\u0301.txt" },
    { source: "e.txt", destination: "/a/caf\u00e9.txt" },
  ];
  const problems = await problemsOf(edit((c) => (c.files = files)));
  assert.deepEqual(problems, [
    {
      path: "files[2].destination",
      message: 'same destination as files[0] ("/a/b.txt"); give each file its own destination',
    },
    {
      path: "files[3].destination",
      message: 'same destination as files[0] ("/a/b.txt"); give each file its own destination',
    },
    {
      path: "files[5].destination",
      message:
        'same destination as files[4] ("/a/caf\u00e9.txt"); give each file its own destination',
    },
  ]);
});

Deno.test("a destination can't be the parent folder of another", async () => {
  const problems = await problemsOf(edit((c) => {
    c.files = [
      { source: "a.txt", destination: "/in/a/b/c.txt" },
      { source: "b.txt", destination: "/in/a" },
    ];
  }));
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, "files[0].destination");
  assert.match(
    problems[0].message,
    /is inside "\/in\/a", which is the destination file of files\[1\]; a remote path can't be both a file and a folder/,
  );
});

// --- collecting everything ---

Deno.test("all problems are collected, one line each in the message", async () => {
  const config = {
    server: { host: "", port: 0, pasword: SECRET, secure: "yes" },
    options: { workers: 0, verify: "md5" },
    files: [
      { source: "", destination: "rel.txt" },
      { source: "a.txt", destination: "/a.txt", extra: true },
      { source: "b.txt", destination: "/a.txt" },
    ],
    other: 1,
  };
  let error: ConfigError | undefined;
  try {
    await parse(config);
  } catch (e) {
    if (e instanceof ConfigError) error = e;
  }
  assert.ok(error);
  assert.deepEqual(error.problems.map((p) => p.path), [
    "other",
    "server.pasword",
    "server.host",
    "server.secure",
    "server.port",
    "options.workers",
    "options.verify",
    "files[0].source",
    "files[0].destination",
    "files[1].extra",
    "files[2].destination",
  ]);
  const lines = error.message.split("\n");
  assert.equal(lines.length, error.problems.length);
  assert.equal(
    lines[0],
    `${CONFIG_PATH}: other: unknown key; known keys are server, options, files`,
  );
  assert.ok(lines.every((line) => line.startsWith(`${CONFIG_PATH}: `)));
  assert.ok(!error.message.includes(SECRET));
  assert.equal(error.name, "ConfigError");
  assert.equal(error.configPath, CONFIG_PATH);
});

Deno.test("no ConfigError message contains the password", async () => {
  const bad: unknown[] = [
    edit((c) => (c.server = { host: `${SECRET} x`, user: `${SECRET}\0` })),
    edit((c) => (c.server.password = `${SECRET}\n`)),
    edit((c) => (c.server = { host: "h", port: SECRET, secure: SECRET })),
    edit((c) => (c.server.passwordEnv = SECRET)),
    edit((c) => (c.server.password = 314159265)),
    edit((c) => (c.server.passwordEnv = 314159265)),
    `{"server": {"password": "${SECRET}"`,
  ];
  for (const config of bad) {
    for (const p of await problemsOf(config)) {
      assert.ok(!p.message.includes(SECRET), p.message);
      assert.ok(!p.message.includes("314159265"), p.message);
    }
  }
});

// --- loadConfig ---

Deno.test("loadConfig: a missing file is a ConfigError at (file)", async () => {
  const error = await loadConfig("no/such/ftpbatch.json").catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.problems, [{
    path: "(file)",
    message: "file not found; check the path",
  }]);
  assert.equal(error.configPath, resolve("no/such/ftpbatch.json"));
  assert.equal(
    error.message,
    `${resolve("no/such/ftpbatch.json")}: (file): file not found; check the path`,
  );
});

Deno.test("loadConfig: a folder is a ConfigError at (file)", async () => {
  const error = await loadConfig(import.meta.dirname!).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.equal(error.problems[0].path, "(file)");
  assert.match(error.problems[0].message, /cannot read the file/);
});

Deno.test("loadConfig reads the file and resolves its path", async () => {
  // deno.json is no ftpbatch config, but it shows the file was read and parsed.
  const path = resolve(import.meta.dirname!, "../../deno.json");
  const error = await loadConfig(path).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.equal(error.configPath, path);
  assert.ok(error.problems.some((p: ConfigProblem) => p.path === "server"));
});

Deno.test("loadConfig: bytes that are not UTF-8 are a ConfigError; a real U+FFFD is text", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = (name: string) =>
      `{"server":{"host":"h"},"files":[{"source":"a","destination":"/${name}"}]}`;
    const latin1 = `${dir}/latin1.json`;
    // "/caf\xe9": a config saved in Latin-1.
    const bytes = new TextEncoder().encode(config("caf_"));
    bytes[bytes.indexOf("_".charCodeAt(0))] = 0xe9;
    await Deno.writeFile(latin1, bytes);
    const error = await loadConfig(latin1).catch((e) => e);
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [{
      path: "(file)",
      message: "not valid UTF-8 text; save the file as UTF-8",
    }]);
    const replacement = `${dir}/fffd.json`;
    await Deno.writeTextFile(replacement, config("caf\uFFFD"));
    const loaded = await loadConfig(replacement);
    assert.equal(loaded.files[0].destination, "/caf\uFFFD");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- resolvePassword ---

const SERVER: ServerConfig = { host: "h", port: 21, secure: false, encoding: "utf8" };
const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("resolvePassword: passwordEnv wins when the variable is set", () => {
  const server = { ...SERVER, password: "file", passwordEnv: "FTP_PASSWORD" };
  assert.equal(resolvePassword(server, env({ FTP_PASSWORD: SECRET })), SECRET);
  assert.equal(resolvePassword(server, env({ FTP_PASSWORD: "" })), "");
});

Deno.test("resolvePassword falls back to password, else undefined", () => {
  assert.equal(
    resolvePassword(
      { ...SERVER, password: SECRET, passwordEnv: "FTP_PASSWORD" },
      env({}),
    ),
    SECRET,
  );
  assert.equal(resolvePassword({ ...SERVER, password: SECRET }, env({})), SECRET);
  assert.equal(resolvePassword(SERVER, env({ FTP_PASSWORD: "x" })), undefined);
});

Deno.test("resolvePassword: passwordEnv unset and no password is an error", () => {
  const server = { ...SERVER, passwordEnv: "FTP_PASSWORD" };
  assert.throws(
    () => resolvePassword(server, env({}), CONFIG_PATH),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems[0].path, "server.passwordEnv");
      assert.match(e.message, /^\/srv\/deploy\/conf\/ftpbatch.json: server\.passwordEnv: /);
      assert.match(e.message, /FTP_PASSWORD is not set; export FTP_PASSWORD=/);
      return true;
    },
  );
});

Deno.test("resolvePassword rejects CR/LF/NUL from the environment without echoing it", () => {
  const server = { ...SERVER, passwordEnv: "FTP_PASSWORD" };
  assert.throws(
    () => resolvePassword(server, env({ FTP_PASSWORD: `${SECRET}\n` })),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems[0].path, "server.passwordEnv");
      assert.match(e.message, /contains a line break or NUL/);
      assert.ok(!e.message.includes(SECRET));
      return true;
    },
  );
});

Deno.test("resolvePassword works with Deno.env.get", () => {
  const name = "FTPBATCH_TEST_UNSET_VARIABLE";
  assert.equal(Deno.env.get(name), undefined);
  assert.equal(
    resolvePassword(
      { ...SERVER, password: SECRET, passwordEnv: name },
      (n) => Deno.env.get(n),
    ),
    SECRET,
  );
});

Deno.test("resolvePassword never echoes a passwordEnv that is no variable name", () => {
  // An unvalidated server section (e.g. built in code) with a password pasted into passwordEnv.
  const server = { ...SERVER, passwordEnv: SECRET };
  assert.throws(
    () => resolvePassword(server, env({})),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems[0].path, "server.passwordEnv");
      assert.ok(!e.message.includes(SECRET), e.message);
      return true;
    },
  );
});

// --- temporary names ---

Deno.test("a destination shaped like a temporary name is rejected at files[i].destination", async () => {
  const temp = tempPathFor("/x/t.txt", 5, 1_700_000_000_000);
  assert.ok(temp.includes(TEMP_MARK), temp);
  await assertProblem(
    edit((c) => {
      c.files = [
        { source: "t.txt", destination: "/x/t.txt" },
        { source: "u.txt", destination: temp },
      ];
    }),
    "files[1].destination",
    "temporary names",
  );
  // Also when the folder form gives the name, and for any fingerprint.
  await assertProblem(
    edit((c) => (c.files = [{ source: `.a${TEMP_MARK}zz-1.part`, destination: "/in/" }])),
    "files[0].destination",
    "temporary names",
  );
  // Names that only contain the mark are fine.
  for (const ok of [`/in/a${TEMP_MARK}1.part`, `/in/.a${TEMP_MARK}1.txt`, "/in/.hidden.part"]) {
    assert.equal(
      (await parse(edit((c) => (c.files[0].destination = ok)))).files[0].destination,
      ok,
    );
  }
});
