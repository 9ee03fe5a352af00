#!/usr/bin/python3
"""A local SMTP sink for message tests (127.0.0.1 only), on aiosmtpd.

    smtp_sink.py DIR [--user NAME --password PW] [--tls CERT KEY]

Listens on an ephemeral port written to DIR/port once it accepts
connections. Every message received is written, as the raw bytes of DATA,
to DIR/mail/NNNNNN.eml (numbered in arrival order, written to a temporary
name then renamed, so a reader sees whole files only), and its envelope is
appended to DIR/envelopes.jsonl as {"n", "mail_from", "rcpt_tos", "auth"
(the user name, or null), "tls", "t" (arrival, epoch seconds)}. The reply
to DATA comes from DIR/codes when that file exists: its first line is popped
per message ("451", "550", "sleep 30" to stall after recording, before the
250), otherwise 250.

--user/--password: AUTH PLAIN/LOGIN is offered and required (over plain
text too: the sink is loopback only). --tls: STARTTLS is offered with that
certificate and required before MAIL. Ends on SIGTERM.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

REPLIES = {"250": "250 OK", "451": "451 4.3.0 try again later",
           "550": "550 5.1.1 mailbox unavailable"}


class Sink:
    def __init__(self, root):
        self.root = root
        self.mail = os.path.join(root, "mail")
        os.makedirs(self.mail, exist_ok=True)
        self.n = len(os.listdir(self.mail))

    def next_reply(self):
        path = os.path.join(self.root, "codes")
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return "250", 0.0
        if not lines:
            return "250", 0.0
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines[1:]))
        first = lines[0].split()
        if first[0] == "sleep":
            return "250", float(first[1])
        return first[0], 0.0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        name = os.path.join(self.mail, "%06d.eml" % self.n)
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(name + ".tmp", name)
        rec = {"n": self.n, "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
               "auth": login(session), "tls": session.ssl is not None,
               "t": time.time()}
        with open(os.path.join(self.root, "envelopes.jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        code, stall = self.next_reply()
        if stall:
            await asyncio.sleep(stall)
        return REPLIES.get(code, code + " reply from the codes file")


class NoDelaySMTP(SMTP):
    """aiosmtpd writes a multi-line reply (EHLO) line by line: without
    TCP_NODELAY each line after the first waits out the client's delayed
    ACK (40 ms per connection), which would make the sink the bottleneck
    of every benchmark."""

    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def login(session):
    """The user name the session authenticated as, or None."""
    data = session.auth_data if session.authenticated else None
    return data.login.decode() if isinstance(data, LoginPassword) else None


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
    return check


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    sink = Sink(a.dir)
    kw = {"hostname": "sink.test"}
    if a.user:
        kw.update(authenticator=authenticator(a.user, a.password or ""), auth_required=True,
                  auth_require_tls=bool(a.tls))
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        kw.update(tls_context=ctx, require_starttls=True)
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = await loop.create_server(lambda: NoDelaySMTP(sink, **kw), sock=sock)
    with open(os.path.join(a.dir, "port.tmp"), "w") as f:
        f.write(str(sock.getsockname()[1]))
    os.rename(os.path.join(a.dir, "port.tmp"), os.path.join(a.dir, "port"))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


warnings.simplefilter("ignore")  # aiosmtpd warns of AUTH without TLS: loopback only
asyncio.run(main())
