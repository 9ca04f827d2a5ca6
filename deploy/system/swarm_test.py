#!/usr/bin/env python3
"""The system on Docker Swarm for real: deploy/swarm/stack.yml with replicas, a rolling
update and the loss of a replica under the original k6 scenario.

    python3 -m deploy.system.swarm_test [--downstream tasks|vip]   (make swarm-test; root)

1. The engine of the compose test (deploy/system/compose_test.py): Debian's docker.io
   installed and dockerd started when absent; the third-party images pulled or built as
   stand-ins (deploy/standins/build.sh) and the four service images built from the
   unchanged Dockerfile by compose.yml's build step (BuildKit cache: no rebuild when
   nothing changed).
2. A single-node swarm (`docker swarm init --advertise-addr 127.0.0.1`) unless the engine
   is in one; the databases' node label; the stack's secrets with fresh random passwords.
3. `docker stack deploy` under a unique stack name on ports 28001-28004 (28089 gRPC),
   then waits until every replica is healthy.
4. Three runs of k6/load.js (30 s, thresholds as they are) at SWARM_TEST_RATE it/s from
   the k6 image on the host network, through the routing mesh: a steady run; a run during
   `docker service update --force` of heroes (update_config: start-first, one at a time);
   a run during which one fights task's container is killed. After each: the thresholds,
   failed requests and dropped iterations, fallbacks, fights stored in MongoDB against
   fights k6 saw answered 200, and the calls each catalogue replica served (its
   /q/metrics, read inside its network namespace).
5. `docker stack rm`, its containers and networks waited for, its volumes, secrets and
   node label removed, and `docker swarm leave --force` when this test started the swarm;
   also on failure or interruption.

--downstream vip points fights at the catalogues' virtual IPs instead of tasks.<service>
and skips the checks of spread, to measure the difference (deploy/README.md).
The checks are listed in CHECKS and evaluated on what the runs observed; the last line is
`swarm-test: N passed, M failed`, after the time of each phase.
Environment: SWARM_TEST_RATE (50), SWARM_TEST_HEALTHY_SECONDS (300).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.exit("deploy/system/swarm_test.py is a module: run it from the repository root as "
             "`python3 -m deploy.system.swarm_test`")

from deploy.system import compose_test  # noqa: E402
from deploy.system.compose_test import DOCKER, ROOT, fights_stored_by_k6  # noqa: E402

STACK_FILE = ROOT / "deploy/swarm/stack.yml"
STACK_PREFIX = "rsh-swarm-test"
PORTS = {"HEROES_PORT": 28001, "VILLAINS_PORT": 28002, "LOCATIONS_PORT": 28003,
         "FIGHTS_PORT": 28004, "LOCATIONS_GRPC_PORT": 28089}
FIGHTS = f"http://127.0.0.1:{PORTS['FIGHTS_PORT']}"
# k6 joins the stack's network and spreads its connections over every fights task; its
# DNS cache is short so that a replaced task's address is picked up within seconds.
K6_HOST = "http://tasks.fights:8004"
K6_DNS = "ttl=2s,select=random,policy=preferIPv4"
# The routing mesh (published ports, virtual IPs) needs IPVS in the kernel.
IPVS = Path("/proc/net/ip_vs")
RATE = os.environ.get("SWARM_TEST_RATE", "50")
HEALTHY_SECONDS = int(os.environ.get("SWARM_TEST_HEALTHY_SECONDS", "300"))
K6_IMAGE = "grafana/k6:0.54.0"
K6_SECONDS = 150  # the scenario lasts 30 s; a hung run must not hang CI
UPDATE_SECONDS = 180
RECOVERY_SECONDS = 90
TEARDOWN_SECONDS = 120
DB_LABEL = "superheroes.databases"
# Catalogue -> (its port inside the task, the path fights asks it).
CATALOGUES = {"heroes": (8001, "random"), "villains": (8002, "random"), "locations": (8003, "random")}
REPLICAS = {"heroes": 2, "villains": 2, "locations": 2, "fights": 2,
            "heroes-db": 1, "villains-db": 1, "locations-db": 1, "fights-db": 1}
# Seconds into a k6 run at which the fault starts: after the 5 s ramp.
FAULT_AT = 6
SPREAD_MIN_SHARE = 0.25  # of a catalogue's calls, per replica (an even spread is 1/2)


def say(text: str) -> None:
    print(f"==> swarm-test {time.strftime('%H:%M:%S')}: {text}", flush=True)


def run(cmd: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """A command with a deadline; a command past it counts as failed (exit code 124)."""
    try:
        return subprocess.run(cmd, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        print(f"     timed out after {timeout:.0f} s: {' '.join(cmd)}", flush=True)
        return subprocess.CompletedProcess(cmd, 124, "", "")


def out(cmd: list[str], timeout: float = 60) -> str:
    proc = run(cmd, timeout=timeout, capture_output=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def docker(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return run([DOCKER, *args], timeout=timeout, **kw)


# ------------------------------------------------------------------ what the runs saw
@dataclasses.dataclass
class K6Run:
    """One k6 run of load.js and what the system showed around it."""
    name: str
    exit_code: int | None = None
    requests: int = 0
    failed: int = 0
    dropped: int = 0
    fallbacks: int = 0
    p95_ms: float = 0.0
    answered: int = 0
    stored: int | None = None
    # Catalogue -> task id -> calls it served during the run.
    spread: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Observed:
    downstream: str = "tasks"
    stack: str = ""
    deployed: bool = False
    healthy_problems: list[str] | None = None
    admin_problems: list[str] | None = None
    mesh_problems: list[str] | None = None
    runs: dict[str, K6Run] = dataclasses.field(default_factory=dict)
    update_state: str | None = None
    update_seconds: float | None = None
    heroes_tasks_replaced: bool | None = None
    killed_task: str | None = None
    recovery_seconds: float | None = None
    restarted_elsewhere: list[str] = dataclasses.field(default_factory=list)
    cleanup_problems: list[str] | None = None
    phases: list[tuple[str, float]] = dataclasses.field(default_factory=list)


class Phase:
    """Times a phase of the test into `observed.phases`."""

    def __init__(self, observed: Observed, name: str):
        self.observed, self.name = observed, name

    def __enter__(self):
        say(self.name)
        self.started = time.monotonic()

    def __exit__(self, *_):
        self.observed.phases.append((self.name, time.monotonic() - self.started))


# ------------------------------------------------------------------ engine, swarm, secrets
def build_images() -> bool:
    say("deploy/standins/build.sh (real images where a registry answers, else stand-ins)")
    if run([str(ROOT / "deploy/standins/build.sh")], timeout=1800,
           env={**os.environ, "DOCKER": DOCKER}).returncode != 0:
        return False
    say("docker-compose build heroes villains locations fights (compose.yml's build, BuildKit cache)")
    try:
        return compose_test.compose("build", "heroes", "villains", "locations", "fights",
                                    timeout=3600).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def swarm_state() -> str:
    return out([DOCKER, "info", "-f", "{{.Swarm.LocalNodeState}}"])


def node_id() -> str:
    return out([DOCKER, "info", "-f", "{{.Swarm.NodeID}}"])


def networks() -> set[str]:
    return set(out([DOCKER, "network", "ls", "--format", "{{.Name}}"]).split())


def secret_values(mongo_standin: bool) -> dict[str, str]:
    """Fresh passwords, and the URLs the services are given with them."""
    pw = {name: secrets.token_hex(16) for name in ("heroes", "villains", "locations", "locations_root",
                                                     "fights_root", "admin")}
    mongodb = ("mongodb://fights-db:27017/fights" if mongo_standin
               else "mongodb://superfight:superfight@fights-db:27017/fights")
    return {
        "heroes_db_password": pw["heroes"],
        "villains_db_password": pw["villains"],
        "locations_db_password": pw["locations"],
        "locations_db_root_password": pw["locations_root"],
        "fights_db_root_password": pw["fights_root"],
        "heroes_database_url": f"postgres://superman:{pw['heroes']}@heroes-db:5432/heroes_database",
        "villains_database_url": f"postgres://superbad:{pw['villains']}@villains-db:5432/villains_database",
        "locations_database_url": f"mysql://locations:{pw['locations']}@locations-db:3306/locations_database",
        "fights_mongodb_url": mongodb,
        "admin_token": pw["admin"],
    }


# ------------------------------------------------------------------ tasks and their metrics
def service_replicas(stack: str) -> dict[str, str]:
    """Service (without the stack prefix) -> `running/desired`."""
    lines = out([DOCKER, "service", "ls", "--filter", f"label=com.docker.stack.namespace={stack}",
                 "--format", "{{.Name}} {{.Replicas}}"]).splitlines()
    return {name.removeprefix(f"{stack}_"): replicas for name, replicas, *_ in (l.split() for l in lines)}


def containers_of(stack: str, service: str | None = None) -> list[dict]:
    """`docker inspect` of the running containers of the stack (or of one service)."""
    label = (f"com.docker.swarm.service.name={stack}_{service}" if service
             else f"com.docker.stack.namespace={stack}")
    ids = out([DOCKER, "ps", "-q", "--filter", f"label={label}"]).split()
    return json.loads(out([DOCKER, "inspect", *ids]) or "[]") if ids else []


def health_of(container: dict) -> str:
    return compose_test.health(container)


def all_healthy(stack: str) -> list[str]:
    """What is not yet as the stack wants it: every replica running and healthy."""
    problems = []
    replicas = service_replicas(stack)
    for service, want in REPLICAS.items():
        running = replicas.get(service, "0/0").split("/")[0]
        if running != str(want):
            problems.append(f"{service}: {replicas.get(service, 'absent')} replicas running, {want} wanted")
    for container in containers_of(stack):
        state = health_of(container)
        if state != "healthy":
            problems.append(f"{container['Name'].lstrip('/')}: {state}")
    return problems


TASK_REQUEST = """
import sys, urllib.error, urllib.request
method, url, *headers = sys.argv[1:]
request = urllib.request.Request(url, method=method, headers=dict(h.split(": ", 1) for h in headers))
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(request, timeout=20) as answer:
        status, body = answer.status, answer.read()
except urllib.error.HTTPError as err:
    status, body = err.code, err.read()
sys.stdout.write(f"{status}\\n" + body.decode(errors="replace"))
"""


def in_netns(pid: int, url: str, method: str = "GET", headers: tuple[str, ...] = ()) -> tuple[int | None, str]:
    """(status, body) of a request from inside the network namespace of process pid: a
    task's own port is reachable there without the routing mesh, and the distroless
    images hold no client."""
    proc = run(["nsenter", "-t", str(pid), "-n", "/usr/bin/python3", "-c", TASK_REQUEST, method, url, *headers],
               timeout=30, capture_output=True)
    if proc.returncode != 0 or "\n" not in proc.stdout:
        return None, proc.stderr.strip()[-200:]
    status, body = proc.stdout.split("\n", 1)
    return int(status), body


def task_request(stack: str, service: str, port: int, path: str, method: str = "GET",
                 headers: tuple[str, ...] = ()) -> tuple[int | None, str]:
    """A request to one running task of `service` on its own port."""
    for container in containers_of(stack, service):
        return in_netns(container["State"]["Pid"], f"http://127.0.0.1:{port}{path}", method, headers)
    return None, f"no running task of {service}"


REQUESTS_LINE = re.compile(r'^http_requests_total\{([^}]*)\} (\d+)', re.M)


def random_calls(metrics: str, path_word: str) -> int:
    """Answers of the catalogue's random-pick routes in a /q/metrics text."""
    total = 0
    for labels, value in REQUESTS_LINE.findall(metrics):
        route = re.search(r'route="([^"]*)"', labels)
        if route and path_word in route.group(1) and "/q/" not in route.group(1):
            total += int(value)
    return total


def catalogue_counts(stack: str) -> dict[str, dict[str, int]]:
    """Catalogue -> task id -> random picks it answered so far."""
    counts: dict[str, dict[str, int]] = {}
    for service, (port, word) in CATALOGUES.items():
        counts[service] = {}
        for container in containers_of(stack, service):
            task = container["Config"]["Labels"].get("com.docker.swarm.task.id", container["Id"])[:10]
            _, text = in_netns(container["State"]["Pid"], f"http://127.0.0.1:{port}/q/metrics")
            counts[service][task] = random_calls(text, word)
    return counts


def spread_between(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {service: {task: n - before.get(service, {}).get(task, 0) for task, n in tasks.items()}
            for service, tasks in after.items()}


# ------------------------------------------------------------------ fights and k6
def fight_count(stack: str) -> int | None:
    """Fights stored in MongoDB: the length of fights' full listing."""
    status, body = task_request(stack, "fights", 8004, "/api/fights")
    try:
        return len(json.loads(body)) if status == 200 else None
    except ValueError:
        return None


def k6_summary_numbers(summary: dict, k6run: K6Run) -> None:
    metrics = summary.get("metrics") or {}

    def value(metric: str, key: str) -> float:
        return float(((metrics.get(metric) or {}).get("values") or {}).get(key, 0) or 0)

    k6run.requests = int(value("http_reqs", "count"))
    k6run.failed = int(value("http_req_failed", "passes"))
    k6run.dropped = int(value("dropped_iterations", "count"))
    k6run.p95_ms = value("http_req_duration", "p(95)")
    k6run.answered = fights_stored_by_k6(summary)
    k6run.fallbacks = 0
    for check in (summary.get("root_group") or {}).get("checks") or []:
        if check.get("name") in ("no fallback fighters", "no fallback location"):
            k6run.fallbacks += int(check.get("fails", 0))


def k6_run(observed: Observed, name: str, fault: Callable[[], None] | None = None) -> K6Run:
    """load.js at RATE from the k6 image on the stack's network, to every fights task;
    `fault` starts FAULT_AT seconds in, in a thread, and is waited for."""
    k6run = K6Run(name)
    observed.runs[name] = k6run
    results = Path(tempfile.mkdtemp(prefix="swarm-test-k6-"))
    results.chmod(0o1777)  # k6 runs as uid 12345
    cmd = [DOCKER, "run", "--rm", "--network", f"{observed.stack}_default", "-v", f"{ROOT / 'k6'}:/k6:ro",
           "-v", f"{results}:/k6/results", "-e", f"K6_HOST={K6_HOST}", "-e", f"K6_DNS={K6_DNS}",
           "-e", f"RAMPING_RATE={RATE}", "-e", "K6_RESULTS_DIR=/k6/results", K6_IMAGE, "run", "--quiet",
           "/k6/load.js"]
    thread = None
    if fault is not None:
        def delayed():
            time.sleep(FAULT_AT)
            fault()
        thread = threading.Thread(target=delayed, daemon=True)
        thread.start()
    k6run.exit_code = run(cmd, timeout=K6_SECONDS, stdout=subprocess.DEVNULL).returncode
    if thread is not None:
        thread.join(UPDATE_SECONDS)
    summary_file = results / "summary-latest.json"
    if summary_file.exists():
        k6_summary_numbers(json.loads(summary_file.read_text()), k6run)
    for leftover in results.iterdir():
        leftover.unlink()
    results.rmdir()
    return k6run


def finish_run(observed: Observed, k6run: K6Run, counts_before: dict[str, dict[str, int]],
               fights_before: int | None) -> None:
    fights_after = fight_count(observed.stack)
    if fights_before is not None and fights_after is not None:
        k6run.stored = fights_after - fights_before
    k6run.spread = spread_between(counts_before, catalogue_counts(observed.stack))
    print(f"     k6 exit {k6run.exit_code}: {k6run.requests} requests, {k6run.failed} failed, "
          f"{k6run.dropped} dropped iterations, p95 {k6run.p95_ms:.1f} ms, {k6run.fallbacks} fallback answers; "
          f"fights answered 200: {k6run.answered}, stored: {k6run.stored}", flush=True)
    for service, tasks in k6run.spread.items():
        calls = ", ".join(f"{task} {n}" for task, n in sorted(tasks.items()))
        print(f"     {service} calls per task: {calls}", flush=True)


def measured_run(observed: Observed, name: str, fault: Callable[[], None] | None = None) -> K6Run:
    counts_before = catalogue_counts(observed.stack)
    fights_before = fight_count(observed.stack)
    k6run = k6_run(observed, name, fault)
    finish_run(observed, k6run, counts_before, fights_before)
    return k6run


# ------------------------------------------------------------------ faults
def rolling_update(observed: Observed) -> None:
    service = f"{observed.stack}_heroes"
    before = set(out([DOCKER, "service", "ps", "-q", "--filter", "desired-state=running", service]).split())
    say(f"docker service update --force {service}")
    started = time.monotonic()
    docker("service", "update", "--force", "--detach", "--quiet", service, timeout=60, stdout=subprocess.DEVNULL)
    # The update is over once its state is completed (after the last task's monitor
    # period) or a rollback or pause ended it.
    while time.monotonic() < started + UPDATE_SECONDS:
        observed.update_state = out([DOCKER, "service", "inspect", "-f", "{{.UpdateStatus.State}}", service])
        if observed.update_state in ("completed", "paused", "rollback_completed", "rollback_paused"):
            break
        time.sleep(1)
    observed.update_seconds = time.monotonic() - started
    after = set(out([DOCKER, "service", "ps", "-q", "--filter", "desired-state=running", service]).split())
    observed.heroes_tasks_replaced = bool(after) and not (before & after)


def kill_fights_task(observed: Observed) -> None:
    containers = containers_of(observed.stack, "fights")
    if not containers:
        return
    victim = containers[0]
    observed.killed_task = victim["Config"]["Labels"].get("com.docker.swarm.task.id", "?")[:10]
    say(f"docker kill {victim['Name'].lstrip('/')} (fights task {observed.killed_task})")
    killed_at = time.monotonic()
    docker("kill", victim["Id"], capture_output=True)
    deadline = killed_at + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        fights = containers_of(observed.stack, "fights")
        if len(fights) == REPLICAS["fights"] and all(health_of(c) == "healthy" for c in fights) \
                and victim["Id"] not in {c["Id"] for c in fights}:
            observed.recovery_seconds = time.monotonic() - killed_at
            return
        time.sleep(1)


# ------------------------------------------------------------------ the test
def deploy(observed: Observed, env: dict[str, str]) -> bool:
    stack_file = STACK_FILE
    if observed.downstream == "vip":
        # The same stack with fights on the virtual IPs; the configs' files by absolute path.
        text = STACK_FILE.read_text().replace("http://tasks.", "http://")
        text = text.replace("../../database/", f"{ROOT / 'database'}/")
        stack_file = Path(tempfile.mkdtemp(prefix="swarm-test-")) / "stack.yml"
        stack_file.write_text(text)
    proc = docker("stack", "deploy", "--resolve-image", "never", "--prune", "-c", str(stack_file),
                  observed.stack, env=env, timeout=180)
    return proc.returncode == 0


def wait_healthy(observed: Observed) -> bool:
    deadline = time.monotonic() + HEALTHY_SECONDS
    started = time.monotonic()
    problems = ["not checked"]
    while time.monotonic() < deadline:
        problems = all_healthy(observed.stack)
        if not problems:
            status, body = task_request(observed.stack, "fights", 8004, "/api/fights/execute_fight")
            if status != 200:
                problems = [f"GET /api/fights/execute_fight in a fights task: {status} {body[:200]}"]
        if not problems:
            say(f"every replica healthy after {time.monotonic() - started:.0f} s")
            break
        time.sleep(2)
    observed.healthy_problems = problems
    if not problems and IPVS.exists():
        try:
            urllib.request.urlopen(f"{FIGHTS}/q/health/ready", timeout=10).close()
            observed.mesh_problems = []
        except OSError as err:
            observed.mesh_problems = [f"{FIGHTS}/q/health/ready: {err}"]
    if problems:
        for service in REPLICAS:
            print(f"---- tasks and logs of {service}", flush=True)
            docker("service", "ps", "--no-trunc", f"{observed.stack}_{service}", timeout=30)
            docker("service", "logs", "--tail", "30", f"{observed.stack}_{service}", timeout=30)
    return not problems


def admin_token_check(stack: str, token: str) -> list[str]:
    """Writes to a catalogue need the token read from the secret file (ADMIN_TOKEN_FILE)."""
    problems = []
    for headers, want in (((), 401), ((f"Authorization: Bearer {token}",), 204)):
        status, body = task_request(stack, "heroes", 8001, "/api/heroes/999999999", "DELETE", headers)
        if status != want:
            problems.append(f"DELETE /api/heroes/999999999 {'with' if headers else 'without'} the token "
                            f"answered {status}, expected {want}: {body[:200]}")
    return problems


def teardown(observed: Observed, created: dict) -> None:
    """Leaves the engine as the test found it."""
    problems = []
    stack = observed.stack
    if stack:
        docker("stack", "rm", stack, capture_output=True, timeout=60)
        deadline = time.monotonic() + TEARDOWN_SECONDS
        while time.monotonic() < deadline:
            left_containers = out([DOCKER, "ps", "-aq", "--filter", f"label=com.docker.stack.namespace={stack}"])
            left_networks = out([DOCKER, "network", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack}"])
            if not left_containers and not left_networks:
                break
            time.sleep(1)
        else:
            problems.append(f"stack {stack}: containers or networks left after {TEARDOWN_SECONDS} s")
        for volume in out([DOCKER, "volume", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack}"]).split():
            if docker("volume", "rm", volume, capture_output=True).returncode != 0:
                problems.append(f"volume {volume} could not be removed")
    for secret in created.get("secrets", []):
        if docker("secret", "rm", secret, capture_output=True).returncode != 0:
            problems.append(f"secret {secret} could not be removed")
    if created.get("label") and not created.get("swarm"):
        docker("node", "update", "--label-rm", DB_LABEL, created["label"], capture_output=True)
    if created.get("swarm"):
        if docker("swarm", "leave", "--force", capture_output=True).returncode != 0:
            problems.append("docker swarm leave --force failed")
        if "docker_gwbridge" not in created.get("networks_before", set()):
            deadline = time.monotonic() + 30
            while "docker_gwbridge" in networks() and time.monotonic() < deadline:
                docker("network", "rm", "docker_gwbridge", capture_output=True)
                time.sleep(2)
            if "docker_gwbridge" in networks():
                print("     note: docker_gwbridge, created by `docker swarm init`, still has an endpoint "
                      "the engine did not release; dockerd removes it on its next start", flush=True)
    observed.cleanup_problems = problems


def remove_leftover_stacks() -> None:
    """Stacks of an interrupted earlier run hold the test's ports."""
    if swarm_state() != "active":
        return
    names = out([DOCKER, "stack", "ls", "--format", "{{.Name}}"]).split()
    for name in names:
        if name.startswith(STACK_PREFIX):
            say(f"removing the leftover stack {name}")
            teardown(Observed(stack=name), {})


def exercise(observed: Observed, created: dict) -> None:
    """Phases 2-4; teardown is the caller's."""
    with Phase(observed, "images: stand-ins and the four service images"):
        if not build_images():
            observed.healthy_problems = ["the images could not be built"]
            return
    mongo = next(image for image, folder in (line.split() for line in out(
        [str(ROOT / "deploy/standins/build.sh"), "--list"]).splitlines()) if folder == "mongo")
    with Phase(observed, "swarm, node label and secrets"):
        remove_leftover_stacks()
        created["networks_before"] = networks()
        if swarm_state() != "active":
            if docker("swarm", "init", "--advertise-addr", "127.0.0.1", capture_output=True).returncode != 0:
                observed.healthy_problems = ["docker swarm init failed"]
                return
            created["swarm"] = True
        node = node_id()
        if not out([DOCKER, "node", "inspect", "-f", f'{{{{ index .Spec.Labels "{DB_LABEL}" }}}}', node]).startswith("true"):
            docker("node", "update", "--label-add", f"{DB_LABEL}=true", node, capture_output=True)
            created["label"] = node
        observed.stack = f"{STACK_PREFIX}-{int(time.time())}"
        values = secret_values(compose_test.is_standin(mongo))
        created["secrets"] = []
        for key, value in values.items():
            name = f"{observed.stack}_{key}"
            if docker("secret", "create", name, "-", input=value, capture_output=True).returncode != 0:
                observed.healthy_problems = [f"docker secret create {name} failed"]
                return
            created["secrets"].append(name)
    env = {**os.environ, **{k: str(v) for k, v in PORTS.items()}, "SECRETS_PREFIX": observed.stack}
    with Phase(observed, f"docker stack deploy {observed.stack} and every replica healthy"):
        observed.deployed = deploy(observed, env)
        if not observed.deployed or not wait_healthy(observed):
            return
    observed.admin_problems = admin_token_check(observed.stack, values["admin_token"])
    with Phase(observed, f"k6 steady at {RATE} it/s"):
        measured_run(observed, "steady")
    with Phase(observed, f"k6 at {RATE} it/s during a rolling update of heroes"):
        measured_run(observed, "rolling update", lambda: rolling_update(observed))
    with Phase(observed, f"k6 at {RATE} it/s, one fights task killed"):
        measured_run(observed, "fights task killed", lambda: kill_fights_task(observed))


# ------------------------------------------------------------------ checks
def run_thresholds(name: str) -> Callable[[Observed], list[str]]:
    """The k6 run `name` passed load.js's thresholds."""
    def check(observed: Observed) -> list[str]:
        k6run = observed.runs.get(name)
        if k6run is None:
            return ["the run did not happen"]
        if k6run.exit_code != 0:
            return [f"k6 exited with {k6run.exit_code} ({k6run.failed} failed requests, "
                    f"{k6run.dropped} dropped iterations, p95 {k6run.p95_ms:.1f} ms, "
                    f"{k6run.fallbacks} fallback answers)"]
        return []
    return check


def run_fights(name: str, *, exact: bool) -> Callable[[Observed], list[str]]:
    """The k6 run `name` failed no request and lost no fight answered 200 (`exact`: and
    stored no fight it did not see answered)."""
    def check(observed: Observed) -> list[str]:
        k6run = observed.runs.get(name)
        if k6run is None:
            return ["the run did not happen"]
        problems = []
        if exact and k6run.failed:
            problems.append(f"{k6run.failed} failed requests")
        if k6run.answered == 0:
            problems.append("k6 saw no fight answered 200")
        if k6run.stored is None:
            problems.append("the fights could not be counted")
        elif k6run.stored < k6run.answered:
            problems.append(f"{k6run.answered} fights answered 200, only {k6run.stored} stored")
        elif exact and k6run.stored != k6run.answered:
            problems.append(f"{k6run.stored} fights stored, {k6run.answered} answered 200")
        return problems
    return check


def spread_problems(name: str, services: tuple[str, ...]) -> Callable[[Observed], list[str]]:
    """During run `name`, every replica of each catalogue answered a fair share of its calls."""
    def check(observed: Observed) -> list[str]:
        k6run = observed.runs.get(name)
        if k6run is None:
            return ["the run did not happen"]
        problems = []
        for service in services:
            tasks = k6run.spread.get(service, {})
            total = sum(tasks.values())
            if len(tasks) != REPLICAS[service] or total == 0:
                problems.append(f"{service}: {len(tasks)} tasks, {total} calls")
                continue
            for task, calls in tasks.items():
                if calls < SPREAD_MIN_SHARE * total:
                    problems.append(f"{service} task {task}: {calls} of {total} calls")
        return problems
    return check


def check_deployed(observed: Observed) -> list[str]:
    return [] if observed.deployed else ["docker stack deploy failed or was not reached"]


def check_healthy(observed: Observed) -> list[str]:
    return observed.healthy_problems if observed.healthy_problems is not None else ["not reached"]


def check_mesh(observed: Observed) -> list[str] | None:
    if not IPVS.exists():
        return None
    return observed.mesh_problems if observed.mesh_problems is not None else ["not reached"]


def check_admin(observed: Observed) -> list[str]:
    return observed.admin_problems if observed.admin_problems is not None else ["not reached"]


def check_update(observed: Observed) -> list[str]:
    if observed.update_state is None:
        return ["the update did not run"]
    problems = []
    if observed.update_state != "completed":
        problems.append(f"update state {observed.update_state!r}")
    if not observed.heroes_tasks_replaced:
        problems.append("heroes still runs tasks from before the update")
    return problems


def check_recovered(observed: Observed) -> list[str]:
    if observed.killed_task is None:
        return ["no fights task was killed"]
    if observed.recovery_seconds is None:
        return [f"fights was not back to {REPLICAS['fights']} healthy replicas within {RECOVERY_SECONDS} s"]
    return []


def check_cleanup(observed: Observed) -> list[str]:
    return observed.cleanup_problems if observed.cleanup_problems is not None else ["not reached"]


# Without the routing mesh k6 dials tasks.fights itself: requests in flight on the killed
# task fail, and until its DNS answer changes k6 may dial the vanished address and wait.
KILLED_ADDRESS = "k6 reaches fights by its tasks' addresses, one of which is killed"

# Every check under the name it is reported by, in the order reported: (name, check,
# whether it applies with --downstream vip, the known issue that makes it fail or None).
# A check returns its problems, or None when it cannot apply on this machine. A check
# with a known issue reports XFAIL while it fails and XPASS once it passes.
CHECKS: list[tuple[str, Callable[[Observed], list[str] | None], bool, str | None]] = [
    ("docker stack deploy accepts deploy/swarm/stack.yml with external secrets", check_deployed, True, None),
    (f"every replica is healthy within {HEALTHY_SECONDS} s and fights runs a fight", check_healthy, True, None),
    ("fights answers on its published port through the routing mesh (needs IPVS in the kernel)",
     check_mesh, True, None),
    ("catalogue writes need the admin token read from its secret file (ADMIN_TOKEN_FILE)", check_admin, True, None),
    ("steady run: k6 thresholds hold", run_thresholds("steady"), True, None),
    ("steady run: no failed request, every fight answered 200 is stored", run_fights("steady", exact=True),
     True, None),
    ("steady run: fights spreads its calls over every catalogue replica",
     spread_problems("steady", tuple(CATALOGUES)), False, None),
    ("rolling update of heroes (start-first, one at a time) completes without rollback", check_update, True, None),
    ("rolling update run: no failed request, every fight answered 200 is stored",
     run_fights("rolling update", exact=True), True, None),
    ("rolling update run: k6 thresholds hold", run_thresholds("rolling update"), True, None),
    ("a killed fights task is replaced and healthy again", check_recovered, True, None),
    ("fights-killed run: k6 thresholds hold", run_thresholds("fights task killed"), True, KILLED_ADDRESS),
    ("fights-killed run: no fight answered 200 is lost", run_fights("fights task killed", exact=False), True, None),
    ("after the update, fights spreads its calls over both new heroes replicas",
     spread_problems("fights task killed", ("heroes",)), False, None),
    ("the stack, its volumes, secrets and label are gone, and the swarm if this test started it",
     check_cleanup, True, None),
]


def report(observed: Observed) -> int:
    passed = failed = 0
    print()
    for name, check, with_vip, known in CHECKS:
        if observed.downstream == "vip" and not with_vip:
            print(f"SKIP {name} (--downstream vip measures it)")
            continue
        try:
            problems = check(observed)
        except Exception as err:  # a crashing check fails, the others still run
            problems = [f"check crashed: {type(err).__name__}: {err}"]
        if problems is None:
            print(f"SKIP {name}")
            continue
        if known and problems:
            print(f"XFAIL {name} (known: {known})")
        elif known:
            print(f"XPASS {name}: the known issue did not show ({known})")
        else:
            print(("PASS " if not problems else "FAIL ") + name)
        for problem in problems:
            print(f"     - {problem}")
        failed += bool(problems) and not known
        passed += not problems
    print("\nruns (k6/load.js, 30 s each, at", RATE, "it/s):")
    print(f"{'run':<20} {'requests':>8} {'failed':>6} {'dropped':>7} {'p95 ms':>7} {'fallbacks':>9} "
          f"{'answered':>8} {'stored':>6}")
    for k6run in observed.runs.values():
        print(f"{k6run.name:<20} {k6run.requests:>8} {k6run.failed:>6} {k6run.dropped:>7} {k6run.p95_ms:>7.1f} "
              f"{k6run.fallbacks:>9} {k6run.answered:>8} {str(k6run.stored):>6}")
    if observed.update_seconds is not None:
        print(f"rolling update of heroes: {observed.update_state} after {observed.update_seconds:.0f} s")
    if observed.recovery_seconds is not None:
        print(f"fights back to {REPLICAS['fights']} healthy replicas {observed.recovery_seconds:.0f} s after the kill")
    print("\nphases:")
    for name, seconds in observed.phases:
        print(f"{seconds:>7.0f} s  {name}")
    print(f"{sum(s for _, s in observed.phases):>7.0f} s  in all")
    print(f"swarm-test: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downstream", choices=("tasks", "vip"), default="tasks",
                        help="how fights reaches the catalogues: tasks.<service> DNS (the stack's) or the virtual IP")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("swarm-test: needs root (apt-get, dockerd, nsenter)")
    signal.signal(signal.SIGTERM, compose_test.on_signal)
    if args.downstream == "vip" and not IPVS.exists():
        sys.exit("swarm-test: --downstream vip needs the virtual IPs, and this kernel has no IPVS")
    observed = Observed(downstream=args.downstream)
    created: dict = {}
    with Phase(observed, "engine"):
        compose_test.ensure_packages()
        compose_test.ensure_dockerd()
    try:
        exercise(observed, created)
    except KeyboardInterrupt as interrupted:
        say(f"interrupted ({interrupted})")
    finally:
        with Phase(observed, "teardown: stack rm, volumes, secrets, swarm"):
            teardown(observed, created)
    return report(observed)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
