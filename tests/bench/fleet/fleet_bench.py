#!/usr/bin/env python3
"""N modules from one `vmodem run --count N` process against N separate
`vmodem run` processes started at once, in the same script run.

Measures, for each way and for a cold start (no state: manufacture, or the
fleet's template and clones) and a warm start (the images exist):
  * seconds from the launch until every module has logged APP RDY
    ("power state: app_rdy" in its vmodem.log, polled every 5 ms);
  * resident memory (VmRSS) once all are up: the fleet's per extra module is
    (RSS with N - RSS with 1) / (N - 1); a process's is its own RSS;
  * disk per module: the blocks its state directory holds (st_blocks) and
    the image's apparent size.
Medians over --repeats runs (these machines are noisy); ratios against the
separate processes. Usage: fleet_bench.py --vmodem build/release/simulator/vmodem
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

READY = b"power state: app_rdy"


def rss_kib(pid, field="VmRSS"):
    """VmRSS, or RssAnon: the private memory, without the pages of the
    memory-mapped NAND image the boot has read (page cache, shared with the
    kernel and dropped under memory pressure)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def memory(pid):
    return rss_kib(pid), rss_kib(pid, "RssAnon")


def wait_ready(logs, timeout):
    """Seconds until every log holds READY (None on timeout)."""
    start = time.monotonic()
    pending = set(logs)
    while pending:
        for log in list(pending):
            try:
                with open(log, "rb") as f:
                    if READY in f.read():
                        pending.discard(log)
            except FileNotFoundError:
                pass
        if time.monotonic() - start > timeout:
            return None
        if pending:
            time.sleep(0.005)
    return time.monotonic() - start


def disk_of(state):
    blocks = apparent = 0
    for root, _, files in os.walk(state):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            blocks += st.st_blocks * 512
            if name == "nand.img":
                apparent += st.st_size
    return blocks, apparent


def stop(procs):
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(timeout=120)


def run_fleet(vmodem, root, count, seed, timeout):
    """One start of a fleet; returns (seconds, rss KiB)."""
    proc = subprocess.Popen(
        [vmodem, "run", "--count", str(count), "--state", root, "--seed", str(seed)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    logs = [os.path.join(root, str(i), "vmodem.log") for i in range(count)]
    for log in logs:  # a warm start appends: only this run's lines count
        if os.path.exists(log):
            os.truncate(log, 0)
    ready = wait_ready(logs, timeout)
    seconds = None if ready is None else time.monotonic() - start
    rss = memory(proc.pid)
    stop([proc])
    return seconds, rss


def run_processes(vmodem, root, count, seed, timeout):
    """One start of `count` processes; returns (seconds, median rss KiB)."""
    states = [os.path.join(root, str(i)) for i in range(count)]
    logs = [os.path.join(s, "vmodem.log") for s in states]
    for log in logs:
        if os.path.exists(log):
            os.truncate(log, 0)
    start = time.monotonic()
    procs = [subprocess.Popen([vmodem, "run", "--state", s, "--seed", str(seed + i)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for i, s in enumerate(states)]
    ready = wait_ready(logs, timeout)
    seconds = None if ready is None else time.monotonic() - start
    rss = (statistics.median(rss_kib(p.pid) for p in procs),
           statistics.median(rss_kib(p.pid, "RssAnon") for p in procs))
    stop(procs)
    return seconds, rss


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vmodem", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = args.dir or tempfile.mkdtemp(prefix="vmodem-fleet-bench-")
    n = args.count
    results = {"count": n, "seed": args.seed, "repeats": args.repeats}
    samples = {k: [] for k in ("fleet_cold", "fleet_warm", "proc_cold", "proc_warm",
                               "fleet_rss", "fleet_rss_1", "proc_rss", "fleet_anon",
                               "fleet_anon_1", "proc_anon")}
    for r in range(args.repeats):
        fleet = os.path.join(work, f"fleet{r}")
        procs = os.path.join(work, f"procs{r}")
        single = os.path.join(work, f"single{r}")
        # Alternate which goes first, so neither always meets a warm cache.
        order = ["fleet", "procs"] if r % 2 == 0 else ["procs", "fleet"]
        for which in order:
            if which == "fleet":
                s, rss = run_fleet(args.vmodem, fleet, n, args.seed, args.timeout)
                samples["fleet_cold"].append(s)
                s, (rss, anon) = run_fleet(args.vmodem, fleet, n, args.seed, args.timeout)
                samples["fleet_warm"].append(s)
                samples["fleet_rss"].append(rss)
                samples["fleet_anon"].append(anon)
                if r == 0:
                    blocks, image_bytes = disk_of(os.path.join(fleet, "1"))
                    results["image_bytes"] = image_bytes
                    results["fleet_disk_bytes_per_module"] = blocks
                shutil.rmtree(fleet, ignore_errors=True)
                run_fleet(args.vmodem, single, 1, args.seed, args.timeout)
                _, (rss1, anon1) = run_fleet(args.vmodem, single, 1, args.seed, args.timeout)
                samples["fleet_rss_1"].append(rss1)
                samples["fleet_anon_1"].append(anon1)
                shutil.rmtree(single, ignore_errors=True)
            else:
                s, _ = run_processes(args.vmodem, procs, n, args.seed, args.timeout)
                samples["proc_cold"].append(s)
                s, (rss, anon) = run_processes(args.vmodem, procs, n, args.seed, args.timeout)
                samples["proc_warm"].append(s)
                samples["proc_rss"].append(rss)
                samples["proc_anon"].append(anon)
                if r == 0:
                    results["process_disk_bytes_per_module"] = disk_of(os.path.join(procs, "1"))[0]
                # Each image reserves its full size on disk: free it at once.
                shutil.rmtree(procs, ignore_errors=True)
    for key, values in samples.items():
        results[key] = median(values)
    for kind in ("rss", "anon"):
        results[f"fleet_{kind}_per_extra_module_kib"] = (
            (results[f"fleet_{kind}"] - results[f"fleet_{kind}_1"]) / (n - 1) if n > 1 else None)
    for phase in ("cold", "warm"):
        f, p = results[f"fleet_{phase}"], results[f"proc_{phase}"]
        results[f"speedup_{phase}"] = p / f if f and p else None
    if not args.dir:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    mib = 1024.0
    print(f"{n} modules, median of {args.repeats} runs (seed {args.seed})")
    print(f"  all APP RDY, cold start : fleet {results['fleet_cold']:.2f} s, "
          f"{n} processes {results['proc_cold']:.2f} s ({results['speedup_cold']:.1f}x)")
    print(f"  all APP RDY, warm start : fleet {results['fleet_warm']:.2f} s, "
          f"{n} processes {results['proc_warm']:.2f} s ({results['speedup_warm']:.1f}x)")
    print(f"  memory (VmRSS)          : fleet {results['fleet_rss'] / mib:.1f} MiB in all, "
          f"{results['fleet_rss_per_extra_module_kib'] / mib:.2f} MiB per extra module; "
          f"a process {results['proc_rss'] / mib:.1f} MiB")
    print(f"  private memory (RssAnon): fleet {results['fleet_anon'] / mib:.1f} MiB in all, "
          f"{results['fleet_anon_per_extra_module_kib'] / mib:.2f} MiB per extra module; "
          f"a process {results['proc_anon'] / mib:.1f} MiB")
    print(f"  disk per module         : fleet {results['fleet_disk_bytes_per_module'] / 2**20:.0f} MiB, "
          f"process {results['process_disk_bytes_per_module'] / 2**20:.0f} MiB "
          f"(image {results['image_bytes'] / 2**20:.0f} MiB apparent)")


if __name__ == "__main__":
    sys.exit(main())
