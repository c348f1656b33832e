#!/usr/bin/python3
"""Misbehaving servers for the AT+QFOTADL end-to-end tests (stdlib only).

  fota_test_server.py http-close-mid PORT SIZE   200 with Content-Length SIZE,
                                                 half the bytes, then close
  fota_test_server.py ftp-close-mid PORT SIZE [REPLY]
                                                 FTP that announces SIZE, sends
                                                 half on the data connection,
                                                 closes it and answers REPLY
                                                 (default 226, "complete")
  fota_test_server.py ftp-reply PORT STAGE REPLY FTP that answers REPLY (e.g.
                                                 451) at STAGE: "greeting"
                                                 (instead of 220, then hangs
                                                 up), "retr" (to RETR) or
                                                 "abort" (after part of the
                                                 data; SIZE unanswered, so
                                                 the client reads the reply);
                                                 STAGE "hangup": closes every
                                                 connection without a word;
                                                 "reset": resets the data
                                                 connection mid-transfer
  fota_test_server.py http-reset-mid PORT SIZE   200 with Content-Length SIZE,
                                                 half the bytes, then an RST
  fota_test_server.py http-trickle PORT SIZE MS  200 with Content-Length SIZE,
                                                 then one byte every MS ms
  fota_test_server.py silent PORT                accepts and never says a word
  fota_test_server.py pyftpdlib PORT ROOT USER PASS
                                                 a real FTP server (pyftpdlib)
                                                 serving ROOT read-only, that
                                                 answers a bad login at once
                                                 (its default waits 3 s)

Serves 127.0.0.1:PORT until killed; one client at a time is enough.
"""
import socket
import struct
import sys
import threading
import time


def listener(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(8)
    return sock


def read_request(conn):
    """Reads an HTTP request head; a connection closed first was a readiness probe."""
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("no request")
        request += chunk
    return request


def http_half(port, size, with_reset):
    """200 with Content-Length `size`, half the bytes, then a close (FIN) or,
    `with_reset`, an RST."""
    sock = listener(port)
    while True:
        conn, _ = sock.accept()
        try:
            read_request(conn)
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size
            conn.sendall(head + b"\x5a" * (size // 2))
            if with_reset:
                time.sleep(0.05)
                reset(conn)
                continue
        except OSError:
            pass
        conn.close()


def http_trickle(port, size, interval_ms):
    sock = listener(port)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=trickle_session, args=(conn, size, interval_ms),
                         daemon=True).start()


def trickle_session(conn, size, interval_ms):
    try:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        for _ in range(size):
            time.sleep(interval_ms / 1000.0)
            conn.sendall(b"\x5a")
    except OSError:
        pass  # the client gave up
    conn.close()


FTP_TEXT = {
    226: "Transfer complete.",
    421: "Service not available, closing control connection.",
    425: "Can't open data connection.",
    426: "Connection closed; transfer aborted.",
    451: "Requested action aborted: local error in processing.",
    552: "Requested file action aborted. Exceeded storage allocation.",
}


def ftp_server(port, size, stage, code):
    sock = listener(port)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=ftp_session, args=(conn, size, stage, code),
                         daemon=True).start()


def ftp_session(conn, size, stage, code):
    try:
        ftp_dialogue(conn, size, stage, code)
    except OSError:
        pass  # a readiness probe or a client that went away
    conn.close()


def ftp_dialogue(conn, size, stage, code):
    """An FTP control connection; at `stage` ("greeting", "retr", "mid",
    "hangup") it answers `code` instead of going on."""
    control = conn.makefile("rwb", buffering=0)

    def reply(line):
        control.write(line.encode() + b"\r\n")

    def failure():
        reply("%d %s" % (code, FTP_TEXT.get(code, "failed")))

    if stage == "hangup":
        return
    if stage == "greeting":
        failure()
        return
    reply("220 test server")
    passive = None
    while True:
        line = control.readline()
        if not line:
            return
        verb = line.decode(errors="replace").strip().split(" ")[0].upper()
        if verb == "USER":
            reply("331 password please")
        elif verb == "PASS":
            reply("230 logged in")
        elif verb == "PWD":
            reply('257 "/"')
        elif verb in ("CWD", "TYPE"):
            reply("200 ok" if verb == "TYPE" else "250 ok")
        elif verb == "EPSV":
            passive = listener(0)
            reply("229 Entering Extended Passive Mode (|||%d|)" % passive.getsockname()[1])
        elif verb == "PASV":
            passive = listener(0)
            p = passive.getsockname()[1]
            reply("227 Entering Passive Mode (127,0,0,1,%d,%d)" % (p >> 8, p & 0xFF))
        elif verb == "SIZE" and stage == "abort":
            reply("502 not implemented")
        elif verb == "SIZE":
            reply("213 %d" % size)
        elif verb == "RETR" and stage == "retr":
            failure()
        elif verb == "RETR" and passive is not None:
            reply("150 opening data connection")
            data, _ = passive.accept()
            data.sendall(b"\x5a" * (size // 2))
            if stage == "reset":
                reset(data)
                return
            data.close()
            failure()
        elif verb == "QUIT":
            reply("221 bye")
            return
        else:
            reply("502 not implemented")


def reset(conn):
    """Closes `conn` with an RST instead of a FIN (SO_LINGER 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def silent(port):
    sock = listener(port)
    held = []
    while True:
        conn, _ = sock.accept()
        held.append(conn)  # kept open, never answered


def pyftpdlib_server(port, root, user, password):
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, root, perm="elr")
    FTPHandler.authorizer = authorizer
    FTPHandler.auth_failed_timeout = 0.05
    FTPServer(("127.0.0.1", port), FTPHandler).serve_forever()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "http-close-mid":
        http_half(port, int(sys.argv[3]), with_reset=False)
    elif mode == "http-reset-mid":
        http_half(port, int(sys.argv[3]), with_reset=True)
    elif mode == "http-trickle":
        http_trickle(port, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "ftp-close-mid":
        code = int(sys.argv[4]) if len(sys.argv) > 4 else 226
        ftp_server(port, int(sys.argv[3]), "mid", code)
    elif mode == "ftp-reply":
        code = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        ftp_server(port, 100000, sys.argv[3], code)
    elif mode == "silent":
        silent(port)
    elif mode == "pyftpdlib":
        pyftpdlib_server(port, *sys.argv[3:6])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
