#!/usr/bin/env python3
"""A local HTTP sink for webhook tests (127.0.0.1 only).

    webhook_sink.py DIR

Listens on an ephemeral port written to DIR/port, appends every POST to
DIR/requests.jsonl as {"path", "headers" (lower-cased names), "body", "status",
"t" (arrival, epoch seconds as a float)}, and answers with a status taken
from DIR/codes when that file exists: its first line is popped per request
("500", "410", "400", "sleep 3" to stall before a 200, "hold" to stall until
DIR/release exists, at most 60 s, before a 200), otherwise 200.
Ends on SIGTERM.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
LOCK = threading.Lock()


def next_code():
    path = os.path.join(DIR, "codes")
    with LOCK:
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return 200, 0.0
        if not lines:
            return 200, 0.0
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines[1:]))
    first = lines[0].split()
    if first[0] == "sleep":
        return 200, float(first[1])
    if first[0] == "hold":
        return 200, -1.0
    return int(first[0]), 0.0


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
    # Headers and body go out in two writes: with Nagle's algorithm on, a
    # kept-alive client waits out the delayed ACK (40 ms) for every answer.
    disable_nagle_algorithm = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        arrived = time.time()
        code, stall = next_code()
        rec = {"path": self.path, "t": arrived, "status": code,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("utf-8")}
        # recorded on arrival: a test killing the sender mid-stall sees it
        with LOCK, open(os.path.join(DIR, "requests.jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        if stall < 0:
            release = os.path.join(DIR, "release")
            for _ in range(600):
                if os.path.exists(release):
                    break
                time.sleep(0.1)
        elif stall:
            time.sleep(stall)
        reply = b"ok" if code < 300 else b"no"
        self.send_response(code)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
server.daemon_threads = True
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
