"""pyftpdlib on loopback for the real-server tests (tests/helpers/real_server.ts).

Run with Debian's interpreter (/usr/bin/python3, python3-pyftpdlib and, for
FTPS, python3-openssl). Arguments come as one JSON object on argv[1]:
port, root, user, password, pasv [min, max], log, and optionally
max_per_ip, rate (upload bytes per second), cert and key (explicit FTPS), tz
(times shown in that local zone, use_gmt_times = False, e.g. "Etc/GMT-5").
"""
import json
import logging
import os
import sys
import time

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
from pyftpdlib.servers import FTPServer


def main() -> None:
    opts = json.loads(sys.argv[1])
    logging.basicConfig(filename=opts["log"], level=logging.DEBUG,
                        format="%(asctime)s %(message)s")
    authorizer = DummyAuthorizer()
    # e l r a d f m w M T: every permission, so uploads, renames and deletes work.
    authorizer.add_user(opts["user"], opts["password"], opts["root"], perm="elradfmwMT")
    handler: type = FTPHandler
    if opts.get("cert"):
        from pyftpdlib.handlers import TLS_FTPHandler
        handler = TLS_FTPHandler
        handler.certfile = opts["cert"]
        handler.keyfile = opts["key"]
    handler.authorizer = authorizer
    if opts.get("tz"):
        os.environ["TZ"] = opts["tz"]
        time.tzset()
        handler.use_gmt_times = False
    handler.passive_ports = range(opts["pasv"][0], opts["pasv"][1] + 1)
    handler.permit_foreign_addresses = False
    if opts.get("rate"):
        dtp = ThrottledDTPHandler
        dtp.read_limit = opts["rate"]
        handler.dtp_handler = dtp
    server = FTPServer(("127.0.0.1", opts["port"]), handler)
    if opts.get("max_per_ip"):
        server.max_cons_per_ip = opts["max_per_ip"]
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
