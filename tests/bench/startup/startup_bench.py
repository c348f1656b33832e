#!/usr/bin/python3
"""Process start-up of the vmodem binary, against small C tools in the same run.

What every `vmodem ctl` call, `vmodem --version` and `delta apply` pays
before it does anything: loading and linking the binary and building its
command line. Medians of N runs each, interleaved so both see the same
machine noise.

  python3 tests/bench/startup/startup_bench.py --vmodem build/release/simulator/vmodem [--runs N] [--json]
"""
import argparse
import json
import statistics
import subprocess
import time


def once(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vmodem", required=True, help="the vmodem binary")
    parser.add_argument("--runs", type=int, default=100, help="runs of each command")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    commands = {
        "vmodem --version": [args.vmodem, "--version"],
        "vmodem ctl status (no module there)": [args.vmodem, "ctl", "--state", "/nonexistent", "status"],
        "true (baseline)": ["true"],
        "ls / (baseline: a C tool)": ["ls", "/"],
    }
    samples = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            samples[name].append(once(cmd))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    if args.json:
        print(json.dumps({"median_ms": medians, "runs": args.runs}, indent=2))
        return
    base = medians["ls / (baseline: a C tool)"]
    for name, ms in medians.items():
        print("%-40s %6.2f ms  %5.1fx ls" % (name, ms, ms / base))


if __name__ == "__main__":
    main()
