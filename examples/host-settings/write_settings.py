#!/usr/bin/env python3
"""Writes the device's settings file the way many host programs do: open it
truncated, write it section by section, close. No temporary file and no
rename, so a power cut between the writes leaves a torn settings file on the
module - the flaw `vmodem campaign` is meant to find.

Plain file I/O on the module's AT port (the PTY VMODEM_AT_PORT names), the
standard library only.
"""
import os
import select
import sys
import time
import tty

SECTIONS = [
    b"[network]\napn=iot.example\nband=B20\n",
    b"[server]\nhost=new.example.test\nport=8883\n",
    b"[tls]\nca=cert.pem\nverify=1\n",
]


class Port:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.buffer = b""

    def read_until(self, done, timeout=10.0):
        end = time.monotonic() + timeout
        while not done(self.buffer):
            left = end - time.monotonic()
            if left <= 0:
                sys.exit("no answer: %r" % self.buffer)
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError as error:  # the port went away: the module lost power
                sys.exit("port gone: %s" % error)
            if not chunk:
                sys.exit("port closed")
            self.buffer += chunk

    def command(self, line, data=None):
        self.buffer = b""
        os.write(self.fd, line.encode() + b"\r")
        if data is not None:
            self.read_until(lambda b: b"CONNECT" in b)
            os.write(self.fd, data)
        self.read_until(lambda b: b"\r\nOK\r\n" in b or b"ERROR" in b)
        if b"ERROR" in self.buffer:
            sys.exit("%s: %r" % (line, self.buffer))
        return self.buffer.decode(errors="replace")


def main():
    port = Port(os.environ["VMODEM_AT_PORT"])
    port.command("ATE0")
    answer = port.command('AT+QFOPEN="settings.ini",1')  # 1: created or emptied
    handle = answer.split("+QFOPEN:")[1].split()[0]
    for section in SECTIONS:
        port.command("AT+QFWRITE=%s,%d" % (handle, len(section)), section)
    port.command("AT+QFCLOSE=%s" % handle)
    print("settings written: %d bytes" % sum(len(s) for s in SECTIONS))


if __name__ == "__main__":
    main()
