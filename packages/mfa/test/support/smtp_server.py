"""A real SMTP server for the SMTP transport's tests: aiosmtpd (Debian's python3-aiosmtpd).

Usage: smtp_server.py [--cert CERT --key KEY] [--auth USER:PASSWORD]
Prints `READY <port>` once listening on 127.0.0.1, then one JSON line per accepted message:
{"from", "to", "data"} (data: the message as received, decoded as UTF-8). With --cert/--key the
server offers STARTTLS; with --auth it requires AUTH (and TLS before it). Stops on stdin EOF.
"""
import argparse
import json
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Printer:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "data": envelope.content.decode("utf-8", "replace"), "tls": session.ssl is not None, "user": getattr(session, "login_data", None) and "authenticated"}), flush=True)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--auth")
    args = parser.parse_args()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    options = {}
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)

    controller = Controller(Printer(), hostname="127.0.0.1", port=port, server_hostname="localhost", **options)
    controller.start()
    print(f"READY {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
