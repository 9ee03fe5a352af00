"""A local SMTP server for the driver tests (aiosmtpd, 127.0.0.1 only).

Prints its port, then stores each accepted message as OUTDIR/N.json with
the headers and bodies decoded by Python's email package, independently of
the C encoder. Recipients named busy@ get 451 (try later), nobody@ get 550.
Modes (argv[2]): plain (default); auth: AUTH required, login "shop" with
the password in $SINK_SMTP_PASSWORD; starttls: STARTTLS required, with the
certificate and key of argv[3] and argv[4]. Exits when stdin closes."""
import email, email.policy, json, logging, os, socket, ssl, sys, warnings
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

# AUTH without TLS is what the test wants on loopback: no warnings about it.
warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
outdir = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else "plain"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login == b"shop" and
          auth_data.password == os.environ.get("SINK_SMTP_PASSWORD", "").encode())
    # handled=False: aiosmtpd then answers the failure (535) itself.
    return AuthResult(success=ok, handled=False, auth_data=auth_data)

class Handler:
    count = 0
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local == "busy":
            return "451 4.3.0 mailbox busy, try later"
        if local == "nobody":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        login = session.auth_data if session.authenticated else None
        out = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
               "login": login.login.decode() if login else None,
               "tls": session.ssl is not None,
               "raw": raw.decode("ascii"),
               "defects": [str(d) for d in msg.defects]}
        for h in ("Subject", "From", "To", "Message-ID", "Date", "MIME-Version"):
            out[h] = str(msg[h]) if msg[h] is not None else None
        out["from_name"] = msg["From"].addresses[0].display_name
        out["to_name"] = msg["To"].addresses[0].display_name
        out["content_type"] = msg.get_content_type()
        for kind in ("plain", "html"):
            part = msg.get_body(preferencelist=(kind,))
            out[kind] = part.get_content().replace("\r\n", "\n") if part is not None else None
            if part is not None:
                out[kind + "_cte"] = part["Content-Transfer-Encoding"]
                out["defects"] += [str(d) for d in part.defects]
        Handler.count += 1
        tmp = os.path.join(outdir, ".%d.tmp" % Handler.count)
        with open(tmp, "w") as f:
            json.dump(out, f)
        os.rename(tmp, os.path.join(outdir, "%d.json" % Handler.count))
        return "250 2.0.0 queued as %d" % Handler.count

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
kw = {}
if mode == "auth":
    kw = dict(auth_required=True, auth_require_tls=False, authenticator=authenticator)
elif mode == "starttls":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    kw = dict(tls_context=ctx, require_starttls=True)
c = Controller(Handler(), hostname="127.0.0.1", port=port, **kw)
c.start()
print(port, flush=True)
sys.stdin.read()
c.stop()
