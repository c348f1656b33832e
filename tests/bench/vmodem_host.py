"""The host's side of a running `vmodem`, for the benchmark scripts: its AT
port (raw, as a serial port) and its control socket (JSON lines, events
kept for wait_event). Not a test library: the benchmarks only measure."""
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import tty


class Port:
    """The host's end of the module's AT port, raw."""

    def __init__(self, path, timeout=10.0):
        end = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > end:
                raise RuntimeError(f"{path} never appeared")
            time.sleep(0.01)
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.pending = b""

    def write(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def read_until(self, needle, timeout=10.0):
        end = time.monotonic() + timeout
        while needle not in self.pending:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise RuntimeError(f"timeout waiting for {needle!r}; have {self.pending[-200:]!r}")
            self.pending += os.read(self.fd, 65536)
        at = self.pending.index(needle) + len(needle)
        out, self.pending = self.pending[:at], self.pending[at:]
        return out

    def command(self, line):
        self.write(line + b"\r")
        return self.read_until(b"OK\r\n")


class Control:
    """A client of `<state>/control.sock`; events that arrive while a reply
    is awaited are kept for wait_event."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self._line()  # the greeting

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("control socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, execute, **arguments):
        request = {"execute": execute}
        if arguments:
            request["arguments"] = {k.replace("_", "-"): v for k, v in arguments.items()}
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            reply = self._line()
            if "event" in reply:
                self.events.append(reply)
            elif "return" in reply:
                return reply["return"]
            elif "error" in reply:
                raise RuntimeError(f"{execute}: {reply['error']}")

    def wait_event(self, name):
        while True:
            for i, event in enumerate(self.events):
                if event["event"] == name:
                    return self.events.pop(i)
            self.events.append(self._line())


@contextlib.contextmanager
def running_module(vmodem, *options):
    """`vmodem run` on a fresh state directory (seed 1); yields the
    directory; SIGTERM and cleanup after."""
    state = tempfile.mkdtemp(prefix="vmodem-bench-")
    daemon = subprocess.Popen([vmodem, "run", "--state", state, "--seed", "1",
                               "--log-level", "warn", *options],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield state
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=10)
        shutil.rmtree(state, ignore_errors=True)
