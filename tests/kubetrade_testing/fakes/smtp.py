"""A local SMTP server that keeps what it is sent, speaking enough RFC 5321 for smtplib.

EHLO/HELO, optional AUTH PLAIN/LOGIN (checked against one user), MAIL FROM,
RCPT TO, DATA (dot-unstuffed), RSET, NOOP, QUIT. No STARTTLS: clients are
configured without it (`starttls: false`), as on a cluster-local relay.
"""

from __future__ import annotations

import base64
import email
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message


@dataclass
class Mailbox:
    """What the server received; `user`/`password` turn AUTH on."""

    user: str | None = None
    password: str | None = None
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        box = self.server.mailbox
        sender, recipients = "", list[str]()
        self.reply("220 kubetrade-test ESMTP")
        while raw := self.rfile.readline():
            line = raw.decode().rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                auth = ["250-AUTH PLAIN LOGIN"] if box.user else []
                for part in ["250-kubetrade-test", *auth]:
                    self.reply(part)
                self.reply("250 8BITMIME")
            elif verb == "AUTH":
                self._auth(line, box)
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while (chunk := self.rfile.readline().decode()) not in (".\r\n", ".\n", ""):
                    body.append(chunk[1:] if chunk.startswith("..") else chunk)
                box.messages.append((sender, recipients, email.message_from_string("".join(body))))
                self.reply("250 OK: queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:  # RSET, NOOP and the rest
                self.reply("250 OK")

    def _auth(self, line: str, box: Mailbox) -> None:
        parts = line.split()
        if len(parts) >= 2 and parts[1].upper() == "PLAIN":
            token = parts[2] if len(parts) > 2 else self._ask("")
            _, user, password = base64.b64decode(token).decode().split("\0")
        else:
            user = base64.b64decode(self._ask("VXNlcm5hbWU6")).decode()
            password = base64.b64decode(self._ask("UGFzc3dvcmQ6")).decode()
        if (user, password) == (box.user, box.password):
            box.logins.append(user)
            self.reply("235 Authentication successful")
        else:
            self.reply("535 Authentication credentials invalid")

    def _ask(self, prompt: str) -> str:
        self.reply(f"334 {prompt}")
        return self.rfile.readline().decode().strip()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mailbox = mailbox


@contextmanager
def smtp_server(mailbox: Mailbox) -> Iterator[int]:
    """Run an SMTP server on a free loopback port; yields the port."""
    server = _Server(mailbox)
    thread = threading.Thread(target=server.serve_forever, name="smtp", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
