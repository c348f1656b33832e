#!/usr/bin/env python3
"""Kill/restart soak of the real `vmodem` binary.

A host drives the module through its AT port as an application would —
uploads (AT+QFUPL), appends (AT+QFOPEN/+QFWRITE/+QFCLOSE), deletes
(AT+QFDEL), backups (AT+QPRTPARA=1 / =11) — while power is lost at random
moments: `kill -9` of the daemon (a power loss at whatever instruction it was
executing) or a power cut armed at a random NAND operation through the
control socket (`power-cut` with a window). After every power-up the soak
downloads every file the module acknowledged and compares it byte for byte
with what the host sent.

What must hold, in every cycle:
  * the module comes back to APP RDY (no brick);
  * every file whose write got its final OK is there, intact (nothing lost,
    nothing corrupted), and a file whose delete got OK stays gone;
  * the one operation in flight when power went is all-or-nothing: the
    file is in its state before or after it (an append may also keep a
    prefix of the appended bytes: a QFWRITE is durable only at its OK).

Every random choice comes from --seed (printed; pass it back to replay).
Exit codes: 0 all cycles passed, 1 a check failed (the first failure is
printed with its cycle), 2 usage or environment error.

  ./dev.sh soak 1000                         # builds release, then runs this
  tests/soak/soak.py --vmodem build/release/simulator/vmodem --cycles 50
"""

import argparse
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

FINAL_RE = re.compile(rb"\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n")
CONNECT_RE = re.compile(rb"CONNECT\r\n|\r\n(ERROR|\+CME ERROR: [^\r]*)\r\n")
PREFIX = "soak_"


class PowerLost(Exception):
    """The port went away (EOF/EIO) or stopped answering: power is gone."""


class CheckFailed(Exception):
    pass


def quectel_checksum(data: bytes) -> str:
    """XOR of the data as big-endian 16-bit words, as +QFUPL/+QFDWL report it."""
    total = 0
    for i in range(0, len(data), 2):
        word = data[i] << 8
        if i + 1 < len(data):
            word |= data[i + 1]
        total ^= word
    return format(total, "x")


class Control:
    """A client of the control socket (JSON lines)."""

    def __init__(self, path: str, timeout: float = 5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self._line()  # greeting

    def _line(self) -> dict:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("control socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, execute: str, **arguments) -> dict:
        request = {"execute": execute}
        if arguments:
            request["arguments"] = {k.replace("_", "-"): v for k, v in arguments.items()}
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            reply = self._line()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError(f"{execute}: {reply['error']}")

    def close(self):
        self.sock.close()


class Port:
    """The host's end of the AT port, opened through the state dir's link."""

    def __init__(self, link: str, deadline: float):
        while True:
            try:
                self.fd = os.open(link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise PowerLost(f"{link} did not appear")
                time.sleep(0.005)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        self.pending = b""

    def close(self):
        os.close(self.fd)

    def write(self, data: bytes):
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                select.select([], [self.fd], [], 0.05)
                continue
            except OSError as e:
                raise PowerLost(f"write: {e}")
            view = view[n:]

    def _fill(self, deadline: float):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PowerLost("no answer (timeout)")
        ready, _, _ = select.select([self.fd], [], [], remaining)
        if not ready:
            raise PowerLost("no answer (timeout)")
        try:
            chunk = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError as e:  # EIO: the other side went away
            raise PowerLost(f"read: {e}")
        if not chunk:
            raise PowerLost("read: EOF")
        self.pending += chunk

    def read_until(self, pattern: re.Pattern, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            match = pattern.search(self.pending)
            if match:
                out, self.pending = self.pending[: match.end()], self.pending[match.end():]
                return out
            self._fill(deadline)

    def read_exact(self, n: int, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.pending) < n:
            self._fill(deadline)
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def data_mode(self, line: str, data: bytes) -> bytes:
        """A data-mode command: the line, CONNECT, the bytes, the final result."""
        self.write(line.encode() + b"\r")
        head = self.read_until(CONNECT_RE, 10)
        if b"CONNECT" not in head:
            raise CheckFailed(f"{line}: {head!r}")
        self.write(data)
        return self.read_until(FINAL_RE, 15)

    def command(self, line: str, timeout: float = 10.0) -> bytes:
        self.write(line.encode() + b"\r")
        return self.read_until(FINAL_RE, timeout)


def ok(response: bytes) -> bool:
    return response.endswith(b"\r\nOK\r\n")


class Module:
    """One `vmodem run` daemon in the soak's state directory."""

    def __init__(self, args):
        self.args = args
        self.proc = None
        self.log = open(os.path.join(args.state, "soak-daemon.log"), "ab")

    def start(self):
        cmd = [self.args.vmodem, "run", "--state", self.args.state, "--profile",
               self.args.profile, "--seed", str(self.args.seed)]
        if self.args.at_trace:
            cmd.append("--at-trace")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def control(self, deadline: float) -> Control:
        path = os.path.join(self.args.state, "control.sock")
        while True:
            try:
                return Control(path)
            except OSError:
                if not self.alive():
                    raise CheckFailed(f"the daemon exited (status {self.proc.returncode})")
                if time.monotonic() > deadline:
                    raise CheckFailed("the control socket never answered")
                time.sleep(0.01)

    def wait_app_rdy(self, timeout: float) -> Control:
        deadline = time.monotonic() + timeout
        control = self.control(deadline)
        while True:
            status = control.call("status")
            # boot_complete: the URCs after APP RDY (PB DONE) are out too, so
            # none lands in the middle of the cycle's first response.
            if status["power"] in ("app_rdy", "running") and status.get("boot_complete", True):
                return control
            if status["power"] == "off":
                control.call("power-on")
            if time.monotonic() > deadline:
                raise CheckFailed(f"brick: power state stuck at {status['power']}")
            time.sleep(0.01)


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.module = Module(args)
        self.files = {}          # name -> bytes the module acknowledged
        self.in_flight = None    # (name, before, after, kind) of the interrupted op
        # What the work of recent uncut cycles cost, to aim cuts inside it.
        self.work_ops = [args.window]
        self.work_seconds = [args.kill_ms / 1000]
        self.counts = dict(cycles=0, kills=0, cuts=0, cuts_late=0, clean=0, uploads=0,
                           appends=0, deletes=0, backups=0, partial_appends=0,
                           in_flight_new=0, in_flight_old=0, files_checked=0,
                           bytes_checked=0)

    # --- the host's operations; each updates the model only on its final OK

    def upload(self, port: Port):
        name = f"{PREFIX}{self.rng.randrange(self.args.names)}.bin"
        data = self.rng.randbytes(self.rng.choice([0, 1, 17, 600, 2048, 5000, 20000]))
        if name in self.files:
            self.delete(port, name)  # QFUPL refuses an existing name
        self.in_flight = (name, None, data, "upload")
        answer = port.data_mode(f'AT+QFUPL="{name}",{len(data)},10', data)
        if not ok(answer) or f"+QFUPL: {len(data)},{quectel_checksum(data)}".encode() not in answer:
            raise CheckFailed(f"QFUPL {name} ({len(data)} bytes): {answer!r}")
        self.files[name] = data
        self.in_flight = None
        self.counts["uploads"] += 1

    def append(self, port: Port):
        if not self.files:
            return self.upload(port)
        name = self.rng.choice(sorted(self.files))
        extra = self.rng.randbytes(self.rng.choice([1, 100, 2048, 4096]))
        before = self.files[name]
        answer = port.command(f'AT+QFOPEN="{name}",0')
        match = re.search(rb"\+QFOPEN: (\d+)", answer)
        if not ok(answer) or not match:
            raise CheckFailed(f"QFOPEN {name}: {answer!r}")
        handle = int(match.group(1))
        if not ok(port.command(f"AT+QFSEEK={handle},0,2")):
            raise CheckFailed(f"QFSEEK {name}")
        self.in_flight = (name, before, before + extra, "append")
        answer = port.data_mode(f"AT+QFWRITE={handle},{len(extra)},10", extra)
        if not ok(answer):
            raise CheckFailed(f"QFWRITE {name}: {answer!r}")
        self.files[name] = before + extra
        self.in_flight = None
        port.command(f"AT+QFCLOSE={handle}")
        self.counts["appends"] += 1

    def delete(self, port: Port, name: str = None):
        if not self.files:
            return self.upload(port)
        name = name or self.rng.choice(sorted(self.files))
        self.in_flight = (name, self.files[name], None, "delete")
        answer = port.command(f'AT+QFDEL="{name}"')
        if not ok(answer):
            raise CheckFailed(f"QFDEL {name}: {answer!r}")
        self.files.pop(name)
        self.in_flight = None
        self.counts["deletes"] += 1

    def backup(self, port: Port):
        which = self.rng.choice([1, 11])
        answer = port.command(f"AT+QPRTPARA={which}", timeout=30)
        if not ok(answer):
            raise CheckFailed(f"AT+QPRTPARA={which}: {answer!r}")
        self.counts["backups"] += 1

    # --- verification after every power-up

    def listing(self, port: Port) -> dict:
        answer = port.command('AT+QFLST="*"')
        if not ok(answer):
            raise CheckFailed(f"QFLST: {answer!r}")
        return {m.group(1).decode(): int(m.group(2))
                for m in re.finditer(rb'\+QFLST: "([^"]*)",(\d+)', answer)}

    def download(self, port: Port, name: str, size: int) -> bytes:
        port.write(f'AT+QFDWL="{name}"\r'.encode())
        port.read_until(re.compile(rb"CONNECT\r\n"), 10)
        data = port.read_exact(size, 15)
        tail = port.read_until(FINAL_RE, 10)
        if f"+QFDWL: {size},{quectel_checksum(data)}".encode() not in tail:
            raise CheckFailed(f"QFDWL {name}: trailer {tail!r}")
        return data

    def resolve_in_flight(self, present: dict, port: Port):
        """The interrupted operation must have happened wholly or not at all."""
        if self.in_flight is None:
            return
        name, before, after, kind = self.in_flight
        self.in_flight = None
        now = self.download(port, name, present[name]) if name in present else None
        if now == after:
            self.counts["in_flight_new"] += 1
        elif now == before:
            self.counts["in_flight_old"] += 1
        elif (kind == "append" and now is not None and now.startswith(before)
              and after.startswith(now)):
            self.counts["partial_appends"] += 1
        else:
            state = "missing" if now is None else f"{len(now)} bytes"
            raise CheckFailed(f"interrupted {kind} of {name}: file is {state}, neither before "
                              f"({None if before is None else len(before)}) nor after "
                              f"({None if after is None else len(after)})")
        if now is None:
            self.files.pop(name, None)
        else:
            self.files[name] = now

    def verify(self, port: Port):
        present = {n: s for n, s in self.listing(port).items() if n.startswith(PREFIX)}
        pending = self.in_flight[0] if self.in_flight else None
        self.resolve_in_flight(present, port)
        for name, data in sorted(self.files.items()):
            if name == pending:
                continue
            if name not in present:
                raise CheckFailed(f"lost: {name} ({len(data)} bytes) acknowledged, now missing")
            if present[name] != len(data) or self.download(port, name, len(data)) != data:
                raise CheckFailed(f"corrupted: {name} ({len(data)} bytes, listed "
                                  f"{present[name]})")
            self.counts["files_checked"] += 1
            self.counts["bytes_checked"] += len(data)
        extra = sorted(set(present) - set(self.files))
        if extra:
            raise CheckFailed(f"files the host never kept (deleted or never acknowledged): {extra}")

    # --- one cycle: power up, verify, work, lose power

    def power_up(self) -> tuple:
        if not self.module.alive():
            self.module.start()
        control = self.module.wait_app_rdy(self.args.boot_timeout)
        port = Port(os.path.join(self.args.state, "ttyUSB2"), time.monotonic() + 5)
        port.command("ATE0")
        return control, port

    def work(self, port: Port):
        ops = [self.upload, self.upload, self.append, self.delete, self.backup]
        for _ in range(self.rng.randint(1, self.args.ops)):
            self.rng.choice(ops)(port)

    def cycle(self):
        control, port = self.power_up()
        try:
            self.verify(port)
            how = self.rng.choices(["kill", "cut", "clean"], weights=[4, 4, 2])[0]
            try:
                self.work_until_power_goes(control, port, how)
            except (PowerLost, ConnectionError, OSError):
                pass
            if how == "kill":
                self.module.proc.wait()
            else:
                self.wait_off(control)
            self.counts[{"kill": "kills", "cut": "cuts", "clean": "clean"}[how]] += 1
        finally:
            port.close()
            control.close()
        self.counts["cycles"] += 1

    def work_until_power_goes(self, control: Control, port: Port, how: str):
        ops_before = control.call("status")["nand_operations"]
        if how == "cut":
            # Aim inside the work: the window is what recent work cost.
            window = max(2, min(self.args.window, self.recent(self.work_ops)))
            control.call("power-cut", window=[1, window], seed=self.rng.randrange(1 << 31))
        elif how == "kill":
            seconds = min(self.args.kill_ms / 1000, self.recent(self.work_seconds))
            threading.Timer(self.rng.uniform(0, seconds), self.module.kill).start()
        started = time.monotonic()
        self.work(port)
        if how != "kill" and control.call("status")["power"] != "off":
            # The work ran to its end: learn what it cost.
            self.learn(self.work_ops, control.call("status")["nand_operations"] - ops_before)
            self.learn(self.work_seconds, time.monotonic() - started)
        if how == "clean":
            control.call("power-off")  # orderly, like AT+QPOWD=1
        elif how == "cut" and control.call("status")["power"] != "off":
            # The window outlived the work: work on until the armed cut fires
            # (a cut at a NAND operation is the point; a hand cut would only
            # disarm it).
            self.counts["cuts_late"] += 1
            for _ in range(100):
                self.work(port)
            raise CheckFailed("an armed power cut never fired")

    @staticmethod
    def learn(history: list, value):
        history.append(value)
        del history[:-20]

    @staticmethod
    def recent(history: list):
        """The median of what the last uncut cycles' work cost."""
        ordered = sorted(history)
        return ordered[len(ordered) // 2]

    def wait_off(self, control: Control):
        deadline = time.monotonic() + 10
        while control.call("status")["power"] != "off":
            if time.monotonic() > deadline:
                control.call("power-cut")
            time.sleep(0.005)

    def run(self) -> int:
        started = time.monotonic()
        show_progress = sys.stderr.isatty()
        try:
            for i in range(self.args.cycles):
                try:
                    self.cycle()
                except PowerLost as e:  # power went before the host got going
                    if self.module.alive():
                        raise CheckFailed(f"port lost while powered: {e}")
                if show_progress:
                    print(f"\rcycle {i + 1}/{self.args.cycles}", end="", file=sys.stderr)
            control, port = self.power_up()  # the last power-up is checked too
            self.verify(port)
            port.close()
            control.close()
        except CheckFailed as e:
            print(f"\nsoak: FAILED at cycle {self.counts['cycles']} (seed {self.args.seed}): {e}",
                  file=sys.stderr)
            print(f"soak: state kept in {self.args.state}", file=sys.stderr)
            self.report(time.monotonic() - started, failed=str(e))
            return 1
        finally:
            self.module.kill()
        self.report(time.monotonic() - started)
        return 0

    def report(self, seconds: float, failed: str = None):
        if sys.stderr.isatty():
            print(file=sys.stderr)
        summary = dict(self.counts, seed=self.args.seed, seconds=round(seconds, 1),
                       files_kept=len(self.files), lost=0 if not failed else None,
                       failed=failed)
        if self.args.json:
            print(json.dumps(summary))
        else:
            print(f"soak: {self.counts['cycles']} cycles in {seconds:.0f} s, seed "
                  f"{self.args.seed}: {self.counts['kills']} kill -9, {self.counts['cuts']} "
                  f"NAND power cuts ({self.counts['cuts_late']} fired after the first round of work), "
                  f"{self.counts['clean']} orderly power-offs; {self.counts['uploads']} uploads, "
                  f"{self.counts['appends']} appends, {self.counts['deletes']} deletes, "
                  f"{self.counts['backups']} backups; in flight at the cut: "
                  f"{self.counts['in_flight_new']} done, {self.counts['in_flight_old']} not "
                  f"done, {self.counts['partial_appends']} partial appends; "
                  f"{self.counts['files_checked']} file checks ({self.counts['bytes_checked']} "
                  f"bytes); {'FAILED: ' + failed if failed else '0 lost, 0 corrupted, 0 bricks'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--vmodem", default="build/release/simulator/vmodem",
                        help="the vmodem binary (default: %(default)s)")
    parser.add_argument("--cycles", type=int, default=1000, help="power cycles (default 1000)")
    parser.add_argument("--seed", type=int, default=None, help="seed of every random choice")
    parser.add_argument("--state", default=None, help="state directory (default: a new temp dir)")
    parser.add_argument("--profile", default="bg95-m3", help="module profile (default bg95-m3)")
    parser.add_argument("--ops", type=int, default=6, help="most host operations per cycle")
    parser.add_argument("--names", type=int, default=12, help="distinct file names used")
    parser.add_argument("--window", type=int, default=400,
                        help="a NAND cut falls in the next 1..N operations, N what the work of "
                        "recent cycles cost, at most WINDOW (default %(default)s)")
    parser.add_argument("--kill-ms", type=int, default=60, help="kill -9 within this many ms")
    parser.add_argument("--boot-timeout", type=float, default=30, help="seconds to APP RDY")
    parser.add_argument("--at-trace", action="store_true",
                        help="the daemon traces every port byte to <state>/at-trace.log")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    if args.cycles < 0 or args.ops < 1 or args.names < 1 or args.window < 1 or args.kill_ms < 0:
        parser.error("counts must be positive")
    if not os.access(args.vmodem, os.X_OK):
        print(f"soak: {args.vmodem} is not an executable (build it: ./dev.sh soak builds it)",
              file=sys.stderr)
        return 2
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    print(f"soak: seed {args.seed} (replay with --seed {args.seed})", file=sys.stderr)
    made_state = args.state is None
    if made_state:
        args.state = tempfile.mkdtemp(prefix="vmodem-soak-")
    os.makedirs(args.state, exist_ok=True)
    code = Soak(args).run()
    if made_state and code == 0:
        shutil.rmtree(args.state, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
