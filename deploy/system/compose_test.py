#!/usr/bin/env python3
"""The compose system for real: compose.yml and the Dockerfile, unchanged, on a Docker engine.

    deploy/system/compose_test.py          (make compose-test; part of make test; root)

1. Installs Debian's docker.io, docker-compose (Compose v1) and debootstrap when absent and
   starts dockerd (log: /var/log/dockerd.log) when no engine answers. It uses Debian's own
   client, /usr/bin/docker, with BuildKit (DOCKER_BUILDKIT=1, COMPOSE_DOCKER_CLI_BUILD=1).
2. deploy/standins/build.sh: every third-party image compose.yml and the Dockerfile name is
   pulled, or, where no registry answers, built locally as a test stand-in.
3. `docker-compose up -d --build` as project `rsh-compose-test` on ports 18001-18004 (a
   native system may hold 8001-8004), then waits until all eight containers are healthy.
4. `docker-compose run --rm k6`: the original k6 scenario (k6/load.js, 30 s) at
   RAMPING_RATE=50 with its thresholds; every fight it stored must be listed by fights.
5. The energy-measurement flow of usage_scenario.yml, shortened: the k6 container started as
   the scenario defines it, and its k6 commands for 1, 10 and 50 it/s executed in it (75, 100
   and 500 it/s are left to real measurements: on 2 cores they add minutes, not coverage).
6. Every container ran as non-root, with the limits of compose.yml, without restarts and
   under its memory limit; a table of CPU seconds during the load and peak memory per
   container, read from the cgroups (what energy tools see).
7. The system at rest: CPU milliseconds per minute of every container over
   COMPOSE_TEST_IDLE_SECONDS with no load (what energy tools measure between runs).
8. `docker-compose down -v`, also on failure or interruption.

The last line is `compose-test: N passed, M failed`; the exit code is 1 when anything failed.
Environment: COMPOSE_TEST_RATE (50), COMPOSE_TEST_HEALTHY_SECONDS (300),
COMPOSE_TEST_IDLE_SECONDS (30; 0 skips step 7).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

try:
    import yaml
except ImportError:  # Debian's python3 has it once docker-compose (python3-yaml) is installed
    yaml = None

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "rsh-compose-test"
PORTS = {"HEROES_PORT": 18001, "VILLAINS_PORT": 18002, "LOCATIONS_PORT": 18003, "FIGHTS_PORT": 18004,
         "LOCATIONS_GRPC_PORT": 18089}
FIGHTS = f"http://127.0.0.1:{PORTS['FIGHTS_PORT']}"
RATE = os.environ.get("COMPOSE_TEST_RATE", "50")
FLOW_RATES = ("1", "10", "50")
IDLE_SECONDS = int(os.environ.get("COMPOSE_TEST_IDLE_SECONDS", "30"))
IDLE_SETTLE_SECONDS = 5
HEALTHY_SECONDS = int(os.environ.get("COMPOSE_TEST_HEALTHY_SECONDS", "300"))
EXPECTED = 8  # 4 databases + 4 services
FLOW_CONTAINER = f"{PROJECT}-k6-flow"
STANDIN_LABEL = "rust-super-heroes.standin"
DOCKERD_LOG = "/var/log/dockerd.log"
# The stand-in for the mongo image has no authentication (deploy/standins/README.md).
STANDIN_MONGODB_URL = "mongodb://fights-db:27017/fights"

os.environ["PATH"] = "/usr/bin:/usr/sbin:/bin:/sbin:" + os.environ.get("PATH", "")
os.environ.update(DOCKER_BUILDKIT="1", COMPOSE_DOCKER_CLI_BUILD="1", BUILDKIT_PROGRESS="plain")
os.environ.update({name: str(port) for name, port in PORTS.items()})
DOCKER = "/usr/bin/docker"

results: list[tuple[str, list[str]]] = []


def record(name: str, problems: list[str]) -> bool:
    results.append((name, problems))
    print(("PASS " if not problems else "FAIL ") + name, flush=True)
    for problem in problems:
        print(f"     - {problem}", flush=True)
    return not problems


def say(text: str) -> None:
    print(f"==> compose-test: {text}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, text=True, **kw)


def out(cmd: list[str]) -> str:
    return run(cmd, capture_output=True, check=True).stdout.strip()


def compose(*args: str, **kw) -> subprocess.CompletedProcess:
    return run(["docker-compose", "-p", PROJECT, "-f", str(ROOT / "compose.yml"), *args], cwd=ROOT, **kw)


# ------------------------------------------------------------------ engine and images
def ensure_packages() -> None:
    wanted = {"docker.io": "/usr/sbin/dockerd", "docker-compose": "/usr/bin/docker-compose",
              "debootstrap": "/usr/sbin/debootstrap"}
    missing = [pkg for pkg, path in wanted.items() if not Path(path).exists() or (pkg == "docker.io" and not Path(DOCKER).exists())]
    if missing:
        say(f"installing {' '.join(missing)} (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], check=True, env=env)
        run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)


def engine_answers() -> bool:
    return run([DOCKER, "info"], capture_output=True).returncode == 0


def ensure_dockerd() -> None:
    if engine_answers():
        return
    say(f"starting dockerd (log: {DOCKERD_LOG})")
    with open(DOCKERD_LOG, "ab") as log:
        subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    deadline = time.monotonic() + 60
    while not engine_answers():
        if time.monotonic() > deadline:
            sys.exit(f"compose-test: dockerd did not answer within 60 s, see {DOCKERD_LOG}")
        time.sleep(0.5)


def is_standin(image: str) -> bool:
    proc = run([DOCKER, "image", "inspect", "-f", f'{{{{ index .Config.Labels "{STANDIN_LABEL}" }}}}', image],
               capture_output=True)
    return proc.returncode == 0 and proc.stdout.strip() not in ("", "<no value>")


# ------------------------------------------------------------------ containers
def containers() -> dict[str, dict]:
    """Service name -> `docker inspect` of its container, for the running project."""
    ids = compose("ps", "-q", capture_output=True, check=True).stdout.split()
    if not ids:
        return {}
    info = json.loads(out([DOCKER, "inspect", *ids]))
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in info}


def health(container: dict) -> str:
    state = container["State"]
    return (state.get("Health") or {}).get("Status") or state.get("Status", "?")


def wait_healthy() -> bool:
    deadline = time.monotonic() + HEALTHY_SECONDS
    started = time.monotonic()
    while True:
        current = containers()
        states = {name: health(c) for name, c in current.items()}
        if len(states) == EXPECTED and all(s == "healthy" for s in states.values()):
            say(f"all {EXPECTED} containers healthy after {time.monotonic() - started:.0f} s")
            return record(f"all {EXPECTED} containers are healthy", [])
        if time.monotonic() > deadline:
            problems = [f"{name}: {state}" for name, state in sorted(states.items()) if state != "healthy"]
            if len(states) != EXPECTED:
                problems.append(f"{len(states)} containers, expected {EXPECTED}")
            for name, state in sorted(states.items()):
                if state != "healthy":
                    print(f"---- logs of {name} ({state})", flush=True)
                    compose("logs", "--no-color", "--tail", "60", name)
            return record(f"all {EXPECTED} containers are healthy within {HEALTHY_SECONDS} s", problems)
        time.sleep(2)


def uid_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[2])  # effective uid
    except OSError:
        return None
    return None


# ------------------------------------------------------------------ cgroups
def cgroup_mounts() -> tuple[dict[str, str], str | None]:
    """cgroup v1 controller -> mount point, and the cgroup v2 mount point."""
    v1, v2 = {}, None
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, fstype, options, *_ = line.split()
        if fstype == "cgroup":
            for option in options.split(","):
                v1.setdefault(option, mount)
        elif fstype == "cgroup2":
            v2 = v2 or mount
    return v1, v2


def cgroup_stats(pid: int) -> dict[str, float] | None:
    """CPU seconds, peak and limit of memory in bytes, of the cgroup of process pid."""
    v1, v2 = cgroup_mounts()
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    paths = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path

    def read(path: Path) -> str:
        return path.read_text().strip()

    if "cpuacct" in paths and "memory" in paths and "cpuacct" in v1 and "memory" in v1:
        cpu = Path(v1["cpuacct"] + paths["cpuacct"])
        mem = Path(v1["memory"] + paths["memory"])
        return {
            "cpu_s": int(read(cpu / "cpuacct.usage")) / 1e9,
            "peak": float(read(mem / "memory.max_usage_in_bytes")),
            "limit": float(read(mem / "memory.limit_in_bytes")),
            "version": 1,
        }
    if "" in paths and v2:
        base = Path(v2 + paths[""])
        usage = dict(line.split() for line in read(base / "cpu.stat").splitlines())
        peak_file = base / "memory.peak"
        limit = read(base / "memory.max")
        return {
            "cpu_s": int(usage["usage_usec"]) / 1e6,
            # memory.peak exists from Linux 5.19; before it only the current usage can be read.
            "peak": float(read(peak_file if peak_file.exists() else base / "memory.current")),
            "limit": float("inf") if limit == "max" else float(limit),
            "version": 2,
        }
    return None


# ------------------------------------------------------------------ fights
def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def fight_count() -> int:
    return len(get_json(f"{FIGHTS}/api/fights"))


def first_start() -> bool:
    """A new compose system holds the seed rows of the original's shape, their pictures
    answer from the published ports, and it lists the three seed fights."""
    problems = []
    fights = get_json(f"{FIGHTS}/api/fights")
    if len(fights) != 3:
        problems.append(f"GET /api/fights lists {len(fights)} fights, a new system lists 3")
    seed = (ROOT / "database/heroes-db/03-seed.sql").read_text(encoding="utf-8")
    hero = get_json(f"http://127.0.0.1:{PORTS['HEROES_PORT']}/api/heroes/random_hero")
    if f"'{hero.get('name', '').replace(chr(39), chr(39) * 2)}'" not in seed:
        problems.append(f"random_hero {hero.get('name')!r} is not a seed hero")
    for port, path in ((PORTS["HEROES_PORT"], "/api/heroes/random_hero"),
                       (PORTS["LOCATIONS_PORT"], "/api/locations/random_location")):
        picture = get_json(f"http://127.0.0.1:{port}{path}").get("picture", "")
        if not picture.startswith(f"http://localhost:{port}/"):
            problems.append(f"{path}: picture {picture} is not on the published port {port}")
            continue
        with urllib.request.urlopen(picture.replace("localhost", "127.0.0.1", 1), timeout=30) as answer:
            kind = answer.headers.get("content-type")
            if answer.status != 200 or kind != "image/svg+xml":
                problems.append(f"{picture} answered {answer.status} {kind}")
    return record("a new system has the seed rows, their pictures on the published ports and 3 fights", problems)


def fights_stored_by_k6(summary: dict) -> int:
    """Passes of the `fight is 200` check in a k6 JSON summary."""
    def walk(group):
        checks = group.get("checks") or []
        for check in checks.values() if isinstance(checks, dict) else checks:
            if check.get("name") == "fight is 200":
                return check.get("passes", 0)
        groups = group.get("groups") or []
        for sub in groups.values() if isinstance(groups, dict) else groups:
            found = walk(sub)
            if found is not None:
                return found
        return None

    return walk(summary.get("root_group") or {}) or 0


def k6_compose_run(results_dir: Path) -> bool:
    before = fight_count()
    say(f"docker-compose run --rm k6 (k6/load.js at RAMPING_RATE={RATE})")
    proc = compose("run", "--rm", "-T", "-e", f"RAMPING_RATE={RATE}", "-v", f"{results_dir}:/k6/results", "k6")
    ok = record(f"`docker-compose run --rm k6` at {RATE} it/s passes the k6 thresholds",
                [] if proc.returncode == 0 else [f"k6 exited with {proc.returncode}"])
    summary_file = results_dir / "summary-latest.json"
    if not summary_file.exists():
        return record("k6 wrote its summary to K6_RESULTS_DIR", [f"no {summary_file.name}"]) and ok
    stored = fights_stored_by_k6(json.loads(summary_file.read_text()))
    after = fight_count()
    newest = get_json(f"{FIGHTS}/api/fights?page=0&size=1")
    problems = []
    if stored == 0:
        problems.append("k6 stored no fight")
    if after - before != stored:
        problems.append(f"k6 stored {stored} fights, GET /api/fights lists {after - before} more")
    if not newest or get_json(f"{FIGHTS}/api/fights/{newest[0]['id']}")["id"] != newest[0]["id"]:
        problems.append("the newest fight cannot be read back by id")
    return record(f"the {stored} fights k6 stored are in MongoDB", problems) and ok


# ------------------------------------------------------------------ energy flow
def load_scenario() -> dict:
    """usage_scenario.yml; `!include file` loads that file, as the measuring tool does."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor(
        "!include", lambda loader, node: yaml.safe_load((ROOT / loader.construct_scalar(node)).read_text())
    )
    return yaml.load((ROOT / "usage_scenario.yml").read_text(), Loader=Loader)


def merge(base: dict, override: dict) -> dict:
    """The tool's merge: dictionaries deep, everything else replaced."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def energy_flow(network: str) -> bool:
    scenario = load_scenario()
    included = scenario.pop("compose-file", {})
    k6 = merge(dict(included["services"]["k6"]), scenario["services"]["k6"])
    env = k6.get("environment") or {}
    cmd = [DOCKER, "run", "-d", "--name", FLOW_CONTAINER, "--network", network,
           "--entrypoint", str(k6.get("entrypoint", ""))]
    limits = ((k6.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    if "cpus" in limits:
        cmd += ["--cpus", str(limits["cpus"])]
    if "memory" in limits:
        cmd += ["--memory", str(limits["memory"])]
    for key, value in env.items():
        cmd += ["-e", f"{key}={value}"]
    for volume in k6.get("volumes") or []:
        source, target, *mode = volume.split(":")
        cmd += ["-v", ":".join([str((ROOT / source).resolve()), target, *mode])]
    cmd += [k6["image"], *shlex.split(k6["command"])]
    say(f"starting the flow's k6 container: {k6['image']} {k6['command']}")
    if run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
        return record("the usage scenario's k6 container starts", ["docker run failed"])
    time.sleep(1)
    running = json.loads(out([DOCKER, "inspect", FLOW_CONTAINER]))[0]["State"]["Running"]
    if not record("the usage scenario's k6 container starts and stays up", [] if running else ["it exited"]):
        return False
    ok = True
    steps = [(flow["name"], c["command"]) for flow in scenario["flow"] for c in flow["commands"]]
    for name, command in steps:
        rate = next((w.split("=", 1)[1] for w in shlex.split(command) if w.startswith("RAMPING_RATE=")), None)
        if rate not in FLOW_RATES:
            print(f"SKIP flow step `{name}` ({command}): only {', '.join(FLOW_RATES)} it/s run here", flush=True)
            continue
        say(f"flow step `{name}`: {command}")
        proc = run([DOCKER, "exec", FLOW_CONTAINER, *shlex.split(command)])
        ok &= record(f"flow step `{name}` passes the k6 thresholds",
                     [] if proc.returncode == 0 else [f"k6 exited with {proc.returncode}"])
    return ok


# ------------------------------------------------------------------ report
def report(before: dict[str, dict], after: dict[str, dict], seconds: float) -> None:
    print(f"\nper container, during the load ({seconds:.0f} s: the k6 run and the flow steps); "
          "peak memory since the container started (cgroup counters)", flush=True)
    print(f"{'container':<14} {'uid':>6} {'CPU s':>8} {'peak MB':>9} {'limit MB':>9}")
    total = 0.0
    for name in sorted(after):
        a, b = after[name], before.get(name)
        cpu = a["cpu_s"] - (b["cpu_s"] if b else 0.0)
        total += cpu
        limit = "-" if a["limit"] >= 2**60 else f"{a['limit'] / 2**20:.0f}"
        print(f"{name:<14} {a['uid']:>6} {cpu:>8.2f} {a['peak'] / 2**20:>9.1f} {limit:>9}")
    print(f"{'all':<14} {'':>6} {total:>8.2f}\n", flush=True)


def idle_report(extra: dict[str, dict] | None, seconds: float) -> None:
    """CPU per minute of every container with no load, what energy tools measure between
    runs: two cgroup snapshots `seconds` apart, a few seconds after the last load."""
    time.sleep(IDLE_SETTLE_SECONDS)
    before = snapshot(extra)
    time.sleep(seconds)
    after = snapshot(extra)
    print(f"\nper container, at rest ({seconds:.0f} s, no load): CPU ms per minute", flush=True)
    total = 0.0
    for name in sorted(after):
        if name not in before:
            continue
        per_minute = (after[name]["cpu_s"] - before[name]["cpu_s"]) * 60_000 / seconds
        total += per_minute
        print(f"{name:<14} {per_minute:>10.1f}")
    print(f"{'all':<14} {total:>10.1f}\n", flush=True)


def snapshot(extra: dict[str, dict] | None = None) -> dict[str, dict]:
    current = dict(containers())
    current.update(extra or {})
    stats = {}
    for name, container in current.items():
        pid = container["State"].get("Pid") or 0
        values = cgroup_stats(pid) if pid else None
        if values is not None:
            stats[name] = {**values, "uid": uid_of(pid)}
    return stats


def check_containers(stats: dict[str, dict], inspected: dict[str, dict]) -> None:
    problems = []
    for name, container in sorted(inspected.items()):
        uid = uid_of(container["State"].get("Pid") or 0)
        if uid is None or uid == 0:
            problems.append(f"{name}: main process uid {uid}")
    record("every container's main process runs as non-root", problems)

    problems = []
    for name, container in sorted(inspected.items()):
        host = container["HostConfig"]
        if not host.get("Memory") or not host.get("NanoCpus"):
            problems.append(f"{name}: memory limit {host.get('Memory')}, NanoCpus {host.get('NanoCpus')}")
    record("compose.yml's cpu and memory limits are applied (deploy.resources.limits)", problems)

    problems = []
    for name, container in sorted(inspected.items()):
        state, values = container["State"], stats.get(name)
        if state.get("OOMKilled"):
            problems.append(f"{name}: OOM-killed")
        if container.get("RestartCount"):
            problems.append(f"{name}: restarted {container['RestartCount']} times")
        if values is None:
            problems.append(f"{name}: no cgroup counters")
        elif values["peak"] >= values["limit"]:
            problems.append(f"{name}: peak {values['peak'] / 2**20:.1f} MB reached the limit {values['limit'] / 2**20:.0f} MB")
    record("every container stayed under its memory limit, without OOM kills or restarts", problems)


# ------------------------------------------------------------------ main
def cleanup() -> None:
    run([DOCKER, "rm", "-f", FLOW_CONTAINER], capture_output=True)
    say("docker-compose down -v")
    compose("--profile", "load", "down", "-v", "--remove-orphans", capture_output=True)


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    if os.geteuid() != 0:
        sys.exit("compose-test: needs root (apt-get, dockerd, cgroups)")
    started = time.monotonic()
    signal.signal(signal.SIGTERM, on_signal)
    ensure_packages()
    if yaml is None and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3", __file__, *sys.argv[1:]])
    ensure_dockerd()
    say("deploy/standins/build.sh (real images where a registry answers, else stand-ins)")
    if run([str(ROOT / "deploy/standins/build.sh")], env={**os.environ, "DOCKER": DOCKER}).returncode != 0:
        record("third-party images are available (pulled or stand-ins)", ["deploy/standins/build.sh failed"])
        return 1
    mongo = next(i for i, f in (line.split() for line in out([str(ROOT / "deploy/standins/build.sh"), "--list"]).splitlines()) if f == "mongo")
    if is_standin(mongo):
        os.environ["FIGHTS_MONGODB_URL"] = STANDIN_MONGODB_URL
        say(f"{mongo} is the stand-in without authentication: FIGHTS_MONGODB_URL={STANDIN_MONGODB_URL}")

    results_dir = Path(tempfile.mkdtemp(prefix="compose-test-k6-"))
    results_dir.chmod(0o1777)  # k6 runs as uid 12345
    cleanup()  # leftovers of an interrupted run
    try:
        build_started = time.monotonic()
        say(f"docker-compose -p {PROJECT} up -d --build (ports {', '.join(map(str, PORTS.values()))})")
        proc = compose("up", "-d", "--build")
        if not record("`docker-compose up -d --build` builds the images and starts the system",
                      [] if proc.returncode == 0 else [f"exit code {proc.returncode}"]):
            return 1
        say(f"built and started in {time.monotonic() - build_started:.0f} s")
        if not wait_healthy():
            return 1
        first_start()
        before = snapshot()
        load_started = time.monotonic()
        k6_compose_run(results_dir)
        network = f"{PROJECT}_default"
        energy_flow(network)
        inspected = containers()
        flow = json.loads(out([DOCKER, "inspect", FLOW_CONTAINER]))[0] if run(
            [DOCKER, "inspect", FLOW_CONTAINER], capture_output=True).returncode == 0 else None
        after = snapshot({"k6 (flow)": flow} if flow else None)
        report(before, after, time.monotonic() - load_started)
        check_containers(after, {**inspected, **({"k6 (flow)": flow} if flow else {})})
        if IDLE_SECONDS > 0:
            idle_report({"k6 (flow)": flow} if flow else None, IDLE_SECONDS)
    except KeyboardInterrupt as interrupted:
        record("the test ran to its end", [f"interrupted ({interrupted})"])
    finally:
        cleanup()
        shutil.rmtree(results_dir, ignore_errors=True)
    say(f"finished in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    code = main()
    passed = sum(1 for _, problems in results if not problems)
    failed = len(results) - passed
    print(f"compose-test: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed or code else 0)
