/**
 * Help texts: one per command (`ftpbatch upload --help`) and the overview
 * (`ftpbatch --help`), which is built from them so the two never disagree.
 *
 * @module
 */

export const VERSION = "0.1.0";

const UPLOAD_OPTIONS = `  --workers N     parallel connections (default 4, never more than files)
  --retries N     retries per file after the first attempt (default 5)
  --report FILE   write the JSON report here (refused if it is a source, the config,
                  a folder, a symlink or a device; its folder must be writable)
  --no-atomic     write straight to the destination (no temporary name + rename)
  --skip RULE     what is already on the server and not sent again: size+mtime (default:
                  same size and modification time), size+newer (also a same-size remote
                  copy at least as new; for servers that cannot set times), size (same
                  size), none (send all), hash (same content: a server hash command, else
                  a deploy manifest)
  --force         send every file, changed or not (the same as --skip none)
  --dry-run       check the config and sources, connect to nothing
  --plan          connect and list like a run, change nothing; report what would be sent,
                  skipped and deleted
  --max-delete N  most remote paths mirror deletions ("delete": true) may remove; over it
                  nothing is deleted (exit 5). Default: at most half of each destination
  --remote-lock   one deploy at a time across machines: a lock folder on the server (exit 4
                  while another run holds it)
  --break-remote-lock  take over a remote lock older than options.remoteLockTtlMs (1 h)
  --lock FILE     one run at a time: exit 4 at once while another run holds FILE
  --bwlimit RATE  upload rate limit over all connections together, e.g. 512K or 2M
                  (bytes per second, K = 1024)
  --quiet         no progress lines; the summary only when something went wrong
  --verbose       a line on stderr per file as it is finished (status, size, time, reason)
  --json          NDJSON events on stdout, one a line (run-start, file, retry, reconnect,
                  run-end), nothing else there; no progress line (see docs/watching.md)
  --shard K/N     take only shard K (0..N-1) of N: the files whose destination hashes to K.
                  Without it: FTPBATCH_SHARD_COUNT=N with FTPBATCH_SHARD_INDEX=K, or with
                  JOB_COMPLETION_INDEX=K (set by a Kubernetes indexed Job)
  -h, --help      this text
Environment: FTPBATCH_WORKER_THREADS=1 runs each plain-FTP connection in its own Web
  Worker thread instead of all of them in the main thread (see docs/benchmarks.md)`;

const SERVE_OPTIONS = `  --host H        loopback address to listen on (default 127.0.0.1)
  --port P        default 2121; 0 picks a free port
  --user U --password P   required login (default: anonymous)
  -h, --help      this text`;

const DEMO_OPTIONS = `  --workers N     parallel connections (default: the demo config's)
  -h, --help      this text`;

const CONFIG = `Config (JSON):
  { "server": { "host", "port", "user", "password" | "passwordEnv", "secure": false|true|"implicit",
                "listTimeZone": "auto"|"UTC"|"+05:00", "epsv": false (PASV only),
                "active": true (EPRT/PORT), "activeAddress": "IP", "activePorts": [first, last] },
    "options": { "workers", "retries", "report", "lock", "atomic", "verify": "size"|"hash",
                 "skip": "size+mtime"|"size+newer"|"size"|"none"|"hash",
                 "backoffBaseMs", "backoffMaxMs", "timeoutMs", "bwlimit": "2M",
                 "maxDelete", "remoteLock": true|"/path", "remoteLockTtlMs" },
    "files": [ { "source": "local/path", "destination": "/remote/path or /remote/folder/" },
               { "source": "local/folder/", "destination": "/remote/folder",
                 "include": ["**/*.html"], "exclude": ["**/*.log"], "followSymlinks": false,
                 "delete": true, "keep": ["uploads/**"] } ] }
A folder source uploads its whole tree under "destination" (empty folders too); with
"delete": true, remote files and folders it no longer has are deleted after a clean run
(never "keep" matches; see docs/deploys.md).
Relative sources and "report" resolve against the config file's folder; CONFIG and --report
on the command line against the folder you run the command from.`;

const EXIT_CODES = `Exit codes:
  0  every file uploaded, skipped (already on the server), planned (--dry-run, --plan)
     or deleted (a mirror deletion)
  1  at least one file missing or failed, or the report could not be written
  2  usage or config error (also a refused --report path), nothing sent
  3  could not connect or log in, nothing sent
  4  another run holds the --lock file (or the --remote-lock); this one did not start
  5  every file went well, but mirror deletions were refused (over the cap, an empty
     source, a listing that could not be read): nothing was deleted
  130/143  interrupted by SIGINT/SIGTERM (report still written)`;

export const UPLOAD_HELP = `ftpbatch upload CONFIG [options]: upload what CONFIG lists.

Options (override the config's "options"):
${UPLOAD_OPTIONS}

Progress: on a terminal, a live line on stderr (files, bytes sent, rate, ETA, connections,
retries) redrawn in place; elsewhere the same line every 10 s; none with --quiet or --json.

${CONFIG}

${EXIT_CODES}
`;

export const SERVE_HELP = `ftpbatch serve ROOT [options]: run the embedded FTP server on loopback,
serving the folder ROOT, to try the tool without an FTP server. Ctrl-C or SIGTERM stops it.

Options:
${SERVE_OPTIONS}
`;

export const DEMO_HELP = `ftpbatch demo [options]: an embedded FTP server on a free loopback port,
fixtures/demo.json uploaded to it, the report printed on stdout; then the same config
again, which finds every file unchanged and sends nothing.

Options:
${DEMO_OPTIONS}
`;

export const REPORT_HELP = `ftpbatch report merge R1.json R2.json … [options]: merge the reports of
the shards of one config into one report with the same schema; exits with the worst shard's exit
code (2 > 3 > 143 > 130 > 1 > 0). Refuses (exit 2) reports of different configs, settings or
servers, overlapping or missing shards, and shards started further apart than --max-spread.
Reads the reports as streams; paths are relative to the folder the command was started in.

Options:
  --output FILE       write the merged report here (default: stdout)
  --max-spread HOURS  how far apart the shards may have started (default 12)
  --quiet             the summary only when a shard did not exit 0
  -h, --help      this text
`;

export const HELP =
  `ftpbatch ${VERSION}: upload many files to an FTP server in parallel, as a JSON config says.

Usage:
  ftpbatch upload CONFIG [options]   upload what CONFIG lists
  ftpbatch serve ROOT [options]      run the embedded FTP server on loopback (to try the tool)
  ftpbatch demo [--workers N]        embedded server + fixtures/demo.json, report printed
  ftpbatch report merge R1.json R2.json … [--output FILE]
                                     merge shard reports into one (stdout without --output);
                                     exits with the worst shard's code (2 > 3 > 143 > 130 > 1 > 0)
  ftpbatch COMMAND --help            one command's options
  ftpbatch --help | --version

upload options (override the config's "options"):
${UPLOAD_OPTIONS}

serve options:
${SERVE_OPTIONS}

${CONFIG}

${EXIT_CODES}
`;
