#!/usr/bin/env python3
"""SMS round trips through `vmodem run`, against a bare `AT` in the same run.

On one module (text mode, AT+CMGF=1; SM storage) it measures, median over
--rounds each:
  * at: `AT` out, `OK` back — the port's floor, the baseline;
  * send: `AT+CMGS="<da>"`, the "> " prompt, the text and Ctrl-Z, up to the
    `OK` after `+CMGS: <mr>` — and up to the SMS_SENT event a control-socket
    subscriber gets (what a test harness waits for);
  * receive: `ctl sms-deliver` on the control socket, the `+CMTI: "SM",<i>`
    URC on the AT port, `AT+CMGR=<i>` up to its `OK` (each message deleted
    with AT+CMGD afterwards, outside the timing).
Ratios are against `at`. Usage:
  sms_bench.py --vmodem build/release/simulator/vmodem [--rounds N] [--json]
"""
import argparse
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vmodem_host import Control, Port, running_module  # noqa: E402

TEXT = b"vmodem SMS benchmark: 40 characters ok."


def timed(job):
    start = time.perf_counter()
    job()
    return time.perf_counter() - start


def send_sms(port, control):
    """AT+CMGS in text mode; returns (seconds to OK, seconds to SMS_SENT)."""
    start = time.perf_counter()
    port.write(b'AT+CMGS="+4915551234"\r')
    port.read_until(b"> ")
    port.write(TEXT + b"\x1a")
    port.read_until(b"OK\r\n")
    to_ok = time.perf_counter() - start
    event = control.wait_event("SMS_SENT")
    to_event = time.perf_counter() - start
    assert event["data"]["text"] == TEXT.decode(), event
    return to_ok, to_event


def receive_sms(port, control):
    """ctl sms-deliver, +CMTI, AT+CMGR; returns the seconds and the index."""
    start = time.perf_counter()
    control.call("sms-deliver", **{"from": "+4917012345", "text": TEXT.decode()})
    urc = port.read_until(b"\r\n", timeout=10.0)
    while b"+CMTI:" not in urc:
        urc = port.read_until(b"\r\n")
    index = int(re.search(rb'\+CMTI: "SM",(\d+)', urc).group(1))
    port.write(b"AT+CMGR=%d\r" % index)
    answer = port.read_until(b"OK\r\n")
    elapsed = time.perf_counter() - start
    assert TEXT in answer, answer
    return elapsed, index


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vmodem", required=True)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with running_module(args.vmodem) as state:
        port = Port(os.path.join(state, "ttyUSB2"))
        port.read_until(b"APP RDY\r\n")
        port.read_until(b"+QIND: PB DONE\r\n")  # the last boot URC, after APP RDY
        control = Control(os.path.join(state, "control.sock"))
        control.call("subscribe", events=["SMS_SENT"])
        port.command(b"ATE0")
        port.command(b"AT+CMGF=1")
        port.command(b'AT+CPMS="SM","SM","SM"')
        at_rtt, send_ok, send_event, receive = [], [], [], []
        for _ in range(args.rounds):
            at_rtt.append(timed(lambda: port.command(b"AT")))
            to_ok, to_event = send_sms(port, control)
            send_ok.append(to_ok)
            send_event.append(to_event)
            elapsed, index = receive_sms(port, control)
            receive.append(elapsed)
            port.command(b"AT+CMGD=%d" % index)

    ms = lambda samples: statistics.median(samples) * 1e3  # noqa: E731
    base = ms(at_rtt)
    result = {
        "rounds": args.rounds,
        "at_ms": base,
        "send_to_ok_ms": ms(send_ok),
        "send_to_event_ms": ms(send_event),
        "receive_ms": ms(receive),
    }
    for key in ("send_to_ok_ms", "send_to_event_ms", "receive_ms"):
        result[key.replace("_ms", "_ratio")] = result[key] / base
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(f"medians of {args.rounds}: AT {base:.3f} ms")
    print(f"  AT+CMGS to OK {result['send_to_ok_ms']:.3f} ms ({result['send_to_ok_ratio']:.1f}x AT), "
          f"to the SMS_SENT event {result['send_to_event_ms']:.3f} ms "
          f"({result['send_to_event_ratio']:.1f}x)")
    print(f"  sms-deliver, +CMTI, AT+CMGR to OK {result['receive_ms']:.3f} ms "
          f"({result['receive_ratio']:.1f}x AT)")


if __name__ == "__main__":
    main()
