"""OpenTelemetry export end to end: the four release binaries on 28101-28104 export to
a receiver of our own (otlp_receiver.py); one fight must be one trace across the four
services, server spans named by route label, and `http.server.request.duration`
must arrive with its attributes. Also checks the monitoring overlay: every metric the
Grafana dashboard queries is one the services emit, and compose accepts the overlay.

Needs the databases of `database/setup.sh all` and the release binaries
(`cargo build --release`); run through deploy/system/otlp.sh.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import otlp_receiver  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "release"
PORTS = {"heroes": 28101, "villains": 28102, "locations": 28103, "fights": 28104}
DASHBOARD = ROOT / "deploy" / "compose" / "grafana" / "superheroes.json"
OVERLAY = ROOT / "deploy" / "compose" / "monitoring.yml"
UNIT_SUFFIXES = {"s": "seconds", "By": "bytes"}

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")


def environment(name, receiver_port):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "BIND_ADDR": f"127.0.0.1:{PORTS[name]}",
        "RUST_LOG": "warn",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver_port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    }
    if name in ("heroes", "villains"):
        user, db = ("superman", "heroes") if name == "heroes" else ("superbad", "villains")
        env["DATABASE_URL"] = os.environ.get(
            f"{name.upper()}_DATABASE_URL",
            f"postgres://{user}:{user}@127.0.0.1:5432/{db}_database")
    elif name == "locations":
        env["DATABASE_URL"] = os.environ.get(
            "LOCATIONS_DATABASE_URL",
            "mysql://locations:locations@127.0.0.1:3306/locations_database")
        env["GRPC_BIND_ADDR"] = "127.0.0.1:28189"
    else:
        env["MONGODB_URL"] = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017")
        for downstream in ("heroes", "villains", "locations"):
            env[f"{downstream.upper()}_URL"] = f"http://127.0.0.1:{PORTS[downstream]}"
    return env


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
        return answer.status, answer.read()


def wait_ready(name, process):
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"otlp: {name} exited with {process.returncode}")
        try:
            if get(PORTS[name], "/q/health/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"otlp: {name} not ready on {PORTS[name]}")


def wait_for(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    return condition()


def check_export():
    """Runs the four services against the receiver; returns the metric points."""
    server, received = otlp_receiver.serve()
    processes = {}
    try:
        for name in ("heroes", "villains", "locations", "fights"):
            processes[name] = subprocess.Popen(
                [str(BIN / name)], env=environment(name, server.server_port),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name, process in processes.items():
            wait_ready(name, process)
        status, _ = get(PORTS["fights"], "/api/fights/execute_fight")
        check("execute_fight answers 200", status == 200, str(status))

        def fight_trace():
            spans, _ = received.snapshot()
            roots = [s for s in spans if s["service"] == "fights"
                     and s["name"] == "GET /api/fights/execute_fight"]
            if not roots:
                return None
            trace = roots[0]["trace_id"]
            services = {s["service"] for s in spans if s["trace_id"] == trace}
            return (trace, services) if len(services) == 4 else None

        found = wait_for(fight_trace)
        spans, _ = received.snapshot()
        check("fights exported the fight's server span", bool([
            s for s in spans if s["name"] == "GET /api/fights/execute_fight"]),
            f"{len(spans)} spans: {sorted({s['name'] for s in spans})}")
        check("one trace id across the four services", bool(found),
              str(sorted({(s['service'], s['trace_id'][:8]) for s in spans})))
        if found:
            trace = found[0]
            in_trace = [s for s in spans if s["trace_id"] == trace]
            servers = [s for s in in_trace if s["kind"] == 2]
            expected = {"GET /api/fights/execute_fight", "GET /api/heroes/random_hero",
                        "GET /api/villains/random_villain",
                        "GET /api/locations/random_location"}
            names = {s["name"] for s in servers}
            check("server spans are named by route label", expected <= names, str(names))
            check("server spans carry method, route and status", all(
                {"http.request.method", "http.route", "http.response.status_code"}
                <= set(s["attributes"]) for s in servers))
            clients = [s for s in in_trace if s["service"] == "fights" and s["kind"] == 3
                       and "peer.service" in s["attributes"]]
            check("fights traces its downstream calls", len(clients) >= 3, str(len(clients)))
            databases = {s["service"] for s in in_trace if "db.system.name" in s["attributes"]}
            check("database calls are spans of the trace",
                  {"heroes", "villains", "locations", "fights"} <= databases, str(databases))

        def duration_points():
            _, points = received.snapshot()
            return [p for p in points if p["name"] == "http.server.request.duration"
                    and p["attributes"].get("http.route") == "GET /api/fights/execute_fight"]

        wait_for(duration_points)
        points = duration_points()
        check("http.server.request.duration arrives", bool(points))
        if points:
            point = points[0]
            check("the duration is a histogram in seconds",
                  point["kind"] == "histogram" and point["unit"] == "s", str(point))
            check("the duration carries route, method and status",
                  point["attributes"].get("http.request.method") == "GET"
                  and point["attributes"].get("http.response.status_code") == 200,
                  str(point["attributes"]))
        _, points = received.snapshot()
        names = {p["name"] for p in points}
        for expected in ("fights_downstream_calls_total", "db_pool_in_use",
                         "fights_mongodb_pool_in_use", "process.cpu.time",
                         "process.memory.usage"):
            check(f"{expected} arrives", expected in names, str(sorted(names)))
        return points
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        server.shutdown()
    return []


def prometheus_names(point):
    """The names Prometheus gives an OTLP metric: dots to underscores, the unit as a
    suffix, `_total` on a counter, a histogram's three series."""
    name = point["name"].replace(".", "_")
    suffix = UNIT_SUFFIXES.get(point["unit"])
    if suffix and not name.endswith("_" + suffix):
        name += "_" + suffix
    if point["kind"] == "histogram":
        return {name + "_bucket", name + "_count", name + "_sum"}
    if point["kind"] == "sum" and not name.endswith("_total"):
        return {name + "_total"}
    return {name}


def dashboard_metrics(dashboard):
    """Every metric name the dashboard's queries use."""
    names = set()
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            expr = re.sub(r"\{[^}]*\}", "", expr)
            expr = re.sub(r"\[[^\]]*\]", "", expr)
            expr = re.sub(r'"[^"]*"', "", expr)
            expr = re.sub(r"\b(by|without)\s*\([^)]*\)", "", expr)
            for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
                if word.startswith(("http_", "process_", "fights_", "db_", "downstream_")):
                    names.add(word)
    return names


def check_dashboard(points):
    emitted = set()
    for point in points:
        emitted |= prometheus_names(point)
    dashboard = json.loads(DASHBOARD.read_text())
    queried = dashboard_metrics(dashboard)
    check("the dashboard queries metrics", bool(queried))
    unknown = sorted(queried - emitted)
    check("every metric the dashboard queries is emitted", not unknown, str(unknown))


def check_overlay():
    compose = subprocess.run(
        ["docker-compose", "-f", "compose.yml", "-f", str(OVERLAY.relative_to(ROOT)),
         "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    check("compose accepts the monitoring overlay", compose.returncode == 0, compose.stderr)


def main():
    check_overlay()
    check_dashboard(check_export())
    passed = sum(results)
    print(f"otlp: {passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
