#!/usr/bin/env python3
"""A fake Supavisor for db-failover.bats: it speaks just enough of the PostgreSQL wire protocol
to refuse every connection with a FATAL ErrorResponse carrying one of the messages Supavisor's
documentation lists (supabase.com/docs/guides/database/supavisor, "Troubleshooting Supavisor
errors"; supabase.github.io/supavisor/faq), e.g. "Max client connections reached" or
"Tenant or user not found". Standard library only; binds 127.0.0.1 on a free port and writes
the port to --port-file.
"""

import argparse
import os
import socketserver
import struct

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104


def error_response(message, code):
    fields = b"".join(tag + value.encode() + b"\0" for tag, value in
                      ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", code), (b"M", message)))
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class Handler(socketserver.BaseRequestHandler):
    def read_packet(self):
        head = self.request.recv(8, 0x100)  # MSG_WAITALL
        if len(head) < 8:
            return None
        length, code = struct.unpack("!II", head)
        rest = length - 8
        while rest > 0:
            chunk = self.request.recv(rest)
            if not chunk:
                return None
            rest -= len(chunk)
        return code

    def handle(self):
        code = self.read_packet()
        while code in (SSL_REQUEST, GSS_REQUEST):
            self.request.sendall(b"N")  # no TLS here: psql goes on in plain text (sslmode=prefer)
            code = self.read_packet()
        if code is None:
            return
        self.request.sendall(error_response(self.server.message, self.server.sqlstate))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--message", required=True)
    parser.add_argument("--sqlstate", default="XX000")
    args = parser.parse_args()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.message, server.sqlstate = args.message, args.sqlstate
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
