#!/usr/bin/env python3
"""TCP through the module's AT port against the same TCP over a plain
loopback socket, in the same script run.

A TCP echo server runs on 127.0.0.1 in this process. Through `vmodem run`
in buffer access mode (AT+QIOPEN, AT+QISEND=<id>,<len> with its "> " prompt,
+QIURC: "recv", AT+QIRD), in transparent access mode (AT+QIOPEN ... ,2 then
raw bytes both ways on the port) and directly (a socket of this process) it
measures:
  * round trip: one message of --size bytes out and back, median over
    --rounds;
  * throughput: --bulk bytes out in 1460-byte pieces (the most one AT+QISEND
    takes; the same pieces everywhere) and all of it read back, bytes per
    second, median over --repeats.
Medians (these machines are noisy); ratios plain / module.
Usage: socket_bench.py --vmodem build/release/simulator/vmodem [--json]
"""
import argparse
import json
import os
import random
import select
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vmodem_host import Port, running_module  # noqa: E402


def echo_server():
    """A thread that echoes every connection; returns the port."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve(conn):
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except ConnectionResetError:  # the module powered off: its peers see a reset
                pass

    def accept():
        while True:
            conn, _ = listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def module_send(port, data):
    for at in range(0, len(data), 1460):
        piece = data[at:at + 1460]
        port.write(b"AT+QISEND=0,%d\r" % len(piece))
        port.read_until(b"> ")
        port.write(piece)
        port.read_until(b"SEND OK\r\n")


def module_read(port, size):
    """Reads `size` bytes back with AT+QIRD, waiting for +QIURC: "recv"."""
    got = b""
    while len(got) < size:
        port.write(b"AT+QIRD=0,1500\r")
        port.read_until(b"+QIRD: ")
        answer = port.read_until(b"\r\n")
        n = int(answer[:-2])
        if n == 0:
            port.read_until(b"OK\r\n")
            port.read_until(b'+QIURC: "recv",0\r\n')
            continue
        while len(port.pending) < n:
            if not select.select([port.fd], [], [], 10)[0]:
                raise RuntimeError("timeout reading AT+QIRD data")
            port.pending += os.read(port.fd, 65536)
        got += port.pending[:n]
        port.pending = port.pending[n:]
        port.read_until(b"OK\r\n")
    return got


def transparent_round_trip(port, message):
    """One message out and back through an online port."""
    start = time.perf_counter()
    port.write(message)
    while len(port.pending) < len(message):
        if not select.select([port.fd], [], [], 10)[0]:
            raise RuntimeError("timeout in transparent mode")
        port.pending += os.read(port.fd, 65536)
    assert port.pending[:len(message)] == message
    port.pending = port.pending[len(message):]
    return time.perf_counter() - start


def transparent_throughput(port, data):
    """Writes `data` in 1460-byte pieces while a thread reads the echo: the
    module's output is bounded, so a host that only wrote would stall."""
    got = bytearray()

    def read_back():
        while len(got) < len(data):
            if not select.select([port.fd], [], [], 10)[0]:
                return
            got.extend(os.read(port.fd, 65536))

    reader = threading.Thread(target=read_back)
    start = time.perf_counter()
    reader.start()
    for at in range(0, len(data), 1460):
        port.write(data[at:at + 1460])
    reader.join()
    elapsed = time.perf_counter() - start
    assert bytes(got) == data, "transparent echo differs"
    return len(data) / elapsed


def plain_round_trip(s, message):
    """One message out and back on an open connection, as the module's is."""
    start = time.perf_counter()
    s.sendall(message)
    got = b""
    while len(got) < len(message):
        got += s.recv(65536)
    return time.perf_counter() - start


def plain_throughput(port_number, data):
    with socket.create_connection(("127.0.0.1", port_number)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.perf_counter()
        for at in range(0, len(data), 1460):  # the same pieces as the module's
            s.sendall(data[at:at + 1460])
        got = b""
        while len(got) < len(data):
            got += s.recv(65536)
        return len(data) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vmodem", required=True)
    parser.add_argument("--size", type=int, default=64, help="round-trip message bytes")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--bulk", type=int, default=64 * 1024, help="throughput bytes")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1, help="the bulk data's (printed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    echo_port = echo_server()
    with running_module(args.vmodem) as state:
        port = Port(os.path.join(state, "ttyUSB2"))
        port.read_until(b"APP RDY\r\n")
        port.read_until(b"+QIND: PB DONE\r\n")  # the last boot URC, after APP RDY
        port.command(b"ATE0")
        port.command(b"AT+QIACT=1")
        port.command(b'AT+QIOPEN=1,0,"TCP","127.0.0.1",%d,0,0' % echo_port)
        port.read_until(b"+QIOPEN: 0,0\r\n")

        message = bytes((i * 7) & 0xFF for i in range(args.size))
        module_rtt, plain_rtt = [], []
        plain = socket.create_connection(("127.0.0.1", echo_port))
        plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(args.rounds):
            start = time.perf_counter()
            module_send(port, message)
            port.read_until(b'+QIURC: "recv",0\r\n')
            assert module_read(port, len(message)) == message
            module_rtt.append(time.perf_counter() - start)
            plain_rtt.append(plain_round_trip(plain, message))
        plain.close()

        bulk = random.Random(args.seed).randbytes(args.bulk)
        module_bps, plain_bps = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            module_send(port, bulk)
            assert module_read(port, len(bulk)) == bulk
            module_bps.append(len(bulk) / (time.perf_counter() - start))
            plain_bps.append(plain_throughput(echo_port, bulk))

        # Transparent access on connectID 1: the port goes online for good.
        port.write(b'AT+QIOPEN=1,1,"TCP","127.0.0.1",%d,0,2\r' % echo_port)
        port.read_until(b"CONNECT\r\n")
        online_rtt = [transparent_round_trip(port, message) for _ in range(args.rounds)]
        online_bps = [transparent_throughput(port, bulk) for _ in range(args.repeats)]

    result = {
        "round_trip_ms": {"module": statistics.median(module_rtt) * 1e3,
                          "plain": statistics.median(plain_rtt) * 1e3,
                          "size": args.size, "rounds": args.rounds},
        "transparent_round_trip_ms": statistics.median(online_rtt) * 1e3,
        "transparent_throughput_kib_s": statistics.median(online_bps) / 1024,
        "throughput_kib_s": {"module": statistics.median(module_bps) / 1024,
                             "plain": statistics.median(plain_bps) / 1024,
                             "bytes": args.bulk, "repeats": args.repeats},
        "seed": args.seed,
    }
    result["round_trip_ms"]["ratio"] = (result["round_trip_ms"]["module"] /
                                        result["round_trip_ms"]["plain"])
    result["throughput_kib_s"]["ratio"] = (result["throughput_kib_s"]["plain"] /
                                           result["throughput_kib_s"]["module"])
    result["transparent_round_trip_ms_ratio"] = (result["transparent_round_trip_ms"] /
                                                 result["round_trip_ms"]["plain"])
    result["transparent_throughput_ratio"] = (result["throughput_kib_s"]["plain"] /
                                              result["transparent_throughput_kib_s"])
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    rt, tp = result["round_trip_ms"], result["throughput_kib_s"]
    print(f"seed {args.seed}")
    print(f"buffer mode round trip ({args.size} B, median of {args.rounds}): module {rt['module']:.3f} ms, "
          f"plain socket {rt['plain']:.3f} ms ({rt['ratio']:.1f}x)")
    print(f"buffer mode throughput ({args.bulk} B, median of {args.repeats}): module {tp['module']:.0f} KiB/s, "
          f"plain socket {tp['plain']:.0f} KiB/s ({tp['ratio']:.1f}x)")
    print(f"transparent mode: round trip {result['transparent_round_trip_ms']:.3f} ms "
          f"({result['transparent_round_trip_ms_ratio']:.1f}x plain), throughput "
          f"{result['transparent_throughput_kib_s']:.0f} KiB/s "
          f"({result['transparent_throughput_ratio']:.1f}x slower than plain)")


if __name__ == "__main__":
    main()
