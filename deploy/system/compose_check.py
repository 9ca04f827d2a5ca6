#!/usr/bin/env python3
"""Static checks of compose.yml, the Dockerfile and .dockerignore against the repository.

    python3 deploy/system/compose_check.py [path/to/compose.yml]

Needs python3 and PyYAML (Debian: python3-yaml). When `docker-compose` (or `docker compose`)
is on PATH, `config -q` validates the file as well; no Docker engine is needed.

Every check is a function returning its problems (none: it passes), listed in CHECKS under
the name it is reported by. Each prints PASS or FAIL with the reasons; the last line is
`compose: N passed, M failed`, and the exit code is 1 when anything failed.

It imports nothing from the project, so it runs by its path (as `make test` runs it); the
expected ports and databases below are its own statement of what compose.yml must say.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

try:
    import yaml
except ImportError:  # reported by main(): an environment problem, not a check failure
    yaml = None

ROOT = Path(__file__).resolve().parents[2]

# The Rust services, their default ports and their databases (see README).
SERVICES = {
    "heroes": {"port": 8001, "db": "heroes-db"},
    "villains": {"port": 8002, "db": "villains-db"},
    "locations": {"port": 8003, "db": "locations-db"},
    "fights": {"port": 8004, "db": "fights-db"},
}
# Ports a service serves besides its HTTP port: the variable of the address, the port
# (published as itself) and the variable that moves it on the host.
EXTRA_PORTS = {
    "locations": [{"addr": "GRPC_BIND_ADDR", "port": 8089, "host_var": "LOCATIONS_GRPC_PORT"}],
}
# fights also needs the three catalogues up.
EXTRA_DEPENDS = {"fights": ["heroes", "villains", "locations"]}
OWN_IMAGE_PREFIX = "rust-super-heroes/"
INITDB = "/docker-entrypoint-initdb.d"


# ------------------------------------------------------------------------ helpers
def env_of(svc: dict) -> dict[str, str]:
    """A service's environment as a map, from either of Compose's two forms."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            key, _, value = str(item).partition("=")
            out[key] = value
        return out
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def mounts_of(svc: dict) -> list[dict]:
    """Volumes as {source, target, read_only, bind}."""
    out = []
    for vol in svc.get("volumes") or []:
        if isinstance(vol, str):
            parts = vol.split(":")
            source = parts[0]
            target = parts[1] if len(parts) > 1 else parts[0]
            mode = parts[2] if len(parts) > 2 else ""
            out.append(
                {
                    "source": source,
                    "target": target,
                    "read_only": "ro" in mode.split(","),
                    "bind": source.startswith((".", "/", "~")),
                }
            )
        else:
            out.append(
                {
                    "source": str(vol.get("source", "")),
                    "target": str(vol.get("target", "")),
                    "read_only": bool(vol.get("read_only")),
                    "bind": vol.get("type") == "bind",
                }
            )
    return out


VARIABLE = re.compile(r"\$\{(\w+):-([^}]*)\}")


def default_of(value: str) -> str:
    """A value with every `${NAME:-default}` replaced by its default (what Compose uses unset)."""
    return VARIABLE.sub(lambda m: m.group(2), value)


def port_specs(svc: dict) -> list[str]:
    """Short-form port entries as written (variables unexpanded), protocol dropped."""
    return [str(p).split("/")[0] for p in svc.get("ports") or [] if not isinstance(p, dict)]


def ports_of(svc: dict) -> list[tuple[int | None, int]]:
    """Published ports as (host, container), variables at their defaults."""
    out = []
    for port in svc.get("ports") or []:
        if isinstance(port, dict):
            published = port.get("published")
            out.append((int(default_of(str(published))) if published else None, int(port["target"])))
            continue
        spec = default_of(str(port).split("/")[0])
        parts = spec.split(":")
        container = int(parts[-1])
        host = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
        out.append((host, container))
    return out


def health_cmd(svc: dict) -> list[str]:
    """The healthcheck test as a list, a string test as CMD-SHELL; [] when none."""
    test = (svc.get("healthcheck") or {}).get("test")
    if test is None:
        return []
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return [str(t) for t in test]


def depends_of(svc: dict) -> dict[str, str]:
    """depends_on as service -> condition; the list form means service_started."""
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        return {d: "service_started" for d in deps}
    return {name: (cond or {}).get("condition", "service_started") for name, cond in deps.items()}


def build_of(svc: dict) -> dict:
    """`build:` in its long form; {} when the service is not built."""
    build = svc.get("build")
    if build is None:
        return {}
    if isinstance(build, str):
        return {"context": build}
    return build


def build_args(build: dict) -> dict[str, str]:
    """Build arguments as a map, from either of Compose's two forms."""
    args = build.get("args") or {}
    if isinstance(args, list):
        return dict(str(a).partition("=")[::2] for a in args)
    return {str(k): str(v) for k, v in args.items()}


def port_of_addr(addr: str) -> int | None:
    """The port of a `host:port` address, or None when it has none."""
    match = re.search(r":(\d+)$", addr)
    return int(match.group(1)) if match else None


def local_crates() -> dict[str, Path]:
    """Workspace crates under services/: package name -> directory."""
    crates = {}
    for manifest in (ROOT / "services").glob("*/Cargo.toml"):
        match = re.search(r'^\s*name\s*=\s*"([^"]+)"', manifest.read_text(), re.M)
        if match:
            crates[match.group(1)] = manifest.parent
    return crates


def crate_closure(name: str, crates: dict[str, Path]) -> list[str]:
    """`name` and every workspace crate it depends on ([dependencies] only, transitively)."""
    seen, todo = [], [name]
    while todo:
        crate = todo.pop()
        if crate in seen or crate not in crates:
            continue
        seen.append(crate)
        text = (crates[crate] / "Cargo.toml").read_text()
        section = re.search(r"^\[dependencies\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        if not section:
            continue
        for dep in re.findall(r"^\s*([A-Za-z0-9_-]+)\s*(?:\.|=)", section.group(1), re.M):
            if dep in crates:
                todo.append(dep)
    return seen


def sources_of(crate_dirs: list[Path]) -> str:
    """Non-test Rust sources (src/) of the given crates, concatenated."""
    text = []
    for crate_dir in crate_dirs:
        for rs in sorted((crate_dir / "src").rglob("*.rs")):
            text.append(rs.read_text(errors="replace"))
    return "\n".join(text)


def dockerignore_patterns() -> list[tuple[str, bool]]:
    """The patterns of .dockerignore as (pattern without leading or trailing /, negated)."""
    path = ROOT / ".dockerignore"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        out.append((line.lstrip("!").strip("/"), negate))
    return out


def ignored(rel: str, patterns: list[tuple[str, bool]]) -> bool:
    """Rough .dockerignore semantics: last match wins; a pattern also covers everything below."""
    result = False
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern, negate in patterns:
        pat = pattern[3:] if pattern.startswith("**/") else pattern
        for prefix in prefixes:
            candidates = [prefix]
            if pattern.startswith("**/"):
                candidates += ["/".join(prefix.split("/")[i:]) for i in range(len(prefix.split("/")))]
            if any(fnmatch.fnmatch(c, pat) for c in candidates):
                result = not negate
                break
    return result


# ------------------------------------------------------------------------ the project
@dataclass
class Project:
    """compose.yml as loaded, with what the checks read beside it: relative paths in the
    file resolve against its folder (`base`), crates are the workspace's under services/."""

    path: Path
    compose: dict
    crates: dict[str, Path]

    @property
    def base(self) -> Path:
        """The folder relative paths in compose.yml start from."""
        return self.path.parent

    @property
    def services(self) -> dict:
        """The `services:` map, empty when the file has none."""
        return self.compose.get("services") or {}


class Unreadable(Exception):
    """compose.yml is missing or not YAML: no check can run."""


def load_project(path: Path) -> Project:
    """Reads `path`; raises Unreadable with the reason to print."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise Unreadable(f"compose_check: {path} does not exist") from None
    try:
        compose = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise Unreadable(f"compose_check: {path} is not valid YAML: {err}") from None
    return Project(path=path, compose=compose, crates=local_crates())


# ------------------------------------------------------------------------ checks
def check_compose_spec(project: Project) -> list[str]:
    """The Compose spec dropped `version:`; every service the system needs is there."""
    problems = []
    if "version" in project.compose:
        problems.append("top-level `version:` is obsolete in the Compose spec; remove it")
    for name in list(SERVICES) + [s["db"] for s in SERVICES.values()] + ["k6"]:
        if name not in project.services:
            problems.append(f"service `{name}` is missing")
    return problems


def check_build_contexts(project: Project) -> list[str]:
    """`docker-compose build` needs each context and Dockerfile, and the one Dockerfile
    builds the crate named by its SERVICE argument."""
    problems = []
    for name, svc in project.services.items():
        build = build_of(svc)
        if not build:
            continue
        context = (project.base / build.get("context", ".")).resolve()
        if not context.is_dir():
            problems.append(f"{name}: build context {build.get('context')} does not exist")
            continue
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        if not dockerfile.is_file():
            problems.append(f"{name}: Dockerfile {dockerfile} does not exist")
            continue
        text = dockerfile.read_text()
        if not re.search(r"^\s*ARG\s+SERVICE\b", text, re.M):
            problems.append(f"{name}: {dockerfile.name} declares no `ARG SERVICE`")
        arg = build_args(build).get("SERVICE")
        if name in SERVICES and arg != name:
            problems.append(f"{name}: build arg SERVICE is {arg!r}, expected {name!r}")
        if name in SERVICES and not (ROOT / "services" / name / "Cargo.toml").is_file():
            problems.append(f"{name}: no crate services/{name} to build")
    for name in SERVICES:
        if name in project.services and not build_of(project.services[name]):
            problems.append(f"{name}: has no `build:`")
    return problems


def check_bind_mounts(project: Project) -> list[str]:
    """A missing bind source becomes an empty folder in the container, silently."""
    problems = []
    for name, svc in project.services.items():
        for mount in mounts_of(svc):
            if mount["bind"] and not (project.base / mount["source"]).resolve().exists():
                problems.append(f"{name}: mounts {mount['source']}, which does not exist")
    return problems


def check_init_scripts_read_only(project: Project) -> list[str]:
    """Each database is seeded from database/ once, and nothing in it may write there."""
    problems = []
    for name in (s["db"] for s in SERVICES.values()):
        svc = project.services.get(name, {})
        init = [m for m in mounts_of(svc) if m["target"].startswith(INITDB)]
        if not init:
            problems.append(f"{name}: nothing mounted at {INITDB}")
        for mount in init:
            if not mount["read_only"]:
                problems.append(f"{name}: {mount['source']} -> {mount['target']} is not read-only (:ro)")
            if not mount["source"].startswith("./database/"):
                problems.append(f"{name}: init mount {mount['source']} is not under ./database/")
    return problems


def check_published_ports(project: Project) -> list[str]:
    """Each service is reached on its own port, the same inside and out."""
    problems = []
    for name, spec in SERVICES.items():
        svc = project.services.get(name, {})
        ports = ports_of(svc)
        wanted = [spec["port"]] + [extra["port"] for extra in EXTRA_PORTS.get(name, [])]
        if ports != [(port, port) for port in wanted]:
            problems.append(f"{name}: ports {ports}, expected {[f'{p}:{p}' for p in wanted]}")
        arg = build_args(build_of(svc)).get("PORT")
        if arg is not None and arg != str(spec["port"]):
            problems.append(f"{name}: build arg PORT={arg}, expected {spec['port']}")
    return problems


def check_ports_configurable(project: Project) -> list[str]:
    """The compose test publishes the services elsewhere to run beside a native system."""
    problems = []
    for name, spec in SERVICES.items():
        wanted = [f"${{{name.upper()}_PORT:-{spec['port']}}}:{spec['port']}"] + [
            f"${{{extra['host_var']}:-{extra['port']}}}:{extra['port']}"
            for extra in EXTRA_PORTS.get(name, [])
        ]
        specs = port_specs(project.services.get(name, {}))
        if specs != wanted:
            problems.append(f"{name}: ports {specs}, expected {wanted!r}")
    return problems


def check_bind_addr_ports(project: Project) -> list[str]:
    """A service listening on another port than the one published and health-checked
    is never healthy."""
    problems = []
    for name, spec in SERVICES.items():
        svc = project.services.get(name, {})
        bind = env_of(svc).get("BIND_ADDR")
        bind_port = port_of_addr(bind) if bind else spec["port"]  # unset: the default port
        if bind and bind_port is None:
            problems.append(f"{name}: BIND_ADDR {bind!r} has no port")
            continue
        if bind and not bind.startswith("0.0.0.0:"):
            problems.append(f"{name}: BIND_ADDR {bind!r} must listen on 0.0.0.0 in a container")
        containers = [c for _, c in ports_of(svc)]
        if containers[:1] != [bind_port]:
            problems.append(f"{name}: container ports {containers} differ from BIND_ADDR port {bind_port}")
        cmd = health_cmd(svc)
        if not cmd:
            problems.append(f"{name}: no healthcheck")
        elif cmd[:1] == ["CMD"] and cmd[1:] == ["/app/service", "healthcheck"]:
            pass  # the binary checks /q/health/ready on the port of BIND_ADDR itself
        else:
            joined = " ".join(cmd[1:])
            urls = re.findall(r"https?://[^\s\"']+", joined)
            ok = any(
                "/q/health/ready" in u and re.search(rf":{bind_port}/", u) for u in urls
            )
            if not ok:
                problems.append(
                    f"{name}: healthcheck {cmd} is neither `/app/service healthcheck` nor a "
                    f"request to /q/health/ready on port {bind_port}"
                )
    return problems


def check_extra_addr_ports(project: Project) -> list[str]:
    """A second server (locations' gRPC) listens on the port compose publishes for it, on
    every interface, and its variable is read by the service's code."""
    problems = []
    for name, extras in EXTRA_PORTS.items():
        svc = project.services.get(name, {})
        containers = [c for _, c in ports_of(svc)]
        source = sources_of([project.crates[c] for c in crate_closure(name, project.crates)])
        for extra in extras:
            addr = env_of(svc).get(extra["addr"])
            if addr is None:
                problems.append(f"{name}: {extra['addr']} is not set (it must say 0.0.0.0:{extra['port']})")
            elif addr != f"0.0.0.0:{extra['port']}":
                problems.append(f"{name}: {extra['addr']} {addr!r}, expected 0.0.0.0:{extra['port']}")
            if extra["port"] not in containers[1:]:
                problems.append(f"{name}: container port {extra['port']} of {extra['addr']} is not published")
            if f'"{extra["addr"]}"' not in source or str(extra["port"]) not in source:
                problems.append(f"{name}: the code does not read {extra['addr']} with default port {extra['port']}")
    return problems


def check_dockerfile_healthcheck(project: Project) -> list[str]:
    """The image has no curl: the binary checks its own readiness."""
    text = (ROOT / "Dockerfile").read_text()
    if not re.search(r'^\s*HEALTHCHECK\b[^\n]*(?:\\\n[^\n]*)*CMD\s+\["/app/service",\s*"healthcheck"\]', text, re.M):
        return ['Dockerfile: no `HEALTHCHECK ... CMD ["/app/service", "healthcheck"]`']
    if not re.search(r'^\s*ENTRYPOINT\s+\["/app/service"\]', text, re.M):
        return ['Dockerfile: ENTRYPOINT is not ["/app/service"]']
    return []


def check_environment_read(project: Project) -> list[str]:
    """A variable no code reads is a setting that silently does nothing."""
    problems = []
    for name in SERVICES:
        svc = project.services.get(name, {})
        closure = crate_closure(name, project.crates)
        if name not in closure:
            problems.append(f"{name}: crate not found under services/")
            continue
        source = sources_of([project.crates[c] for c in closure])
        for var in env_of(svc):
            if f'"{var}"' in source:
                continue
            # env_logger reads RUST_LOG itself when configured from its default Env.
            if var == "RUST_LOG" and re.search(r"env_logger::(?:Env::default\(\)|init\(\)|Builder::from_default_env)", source):
                continue
            problems.append(
                f"{name}: sets {var}, but no \"{var}\" literal in src/ of crates {', '.join(closure)}"
            )
    return problems


def check_depends_healthy(project: Project) -> list[str]:
    """A service started before its database is ready fails its first requests."""
    problems = []
    for name, spec in SERVICES.items():
        deps = depends_of(project.services.get(name, {}))
        for needed in [spec["db"]] + EXTRA_DEPENDS.get(name, []):
            cond = deps.get(needed)
            if cond is None:
                problems.append(f"{name}: does not depend on {needed}")
            elif cond != "service_healthy":
                problems.append(f"{name}: depends on {needed} with {cond}, expected service_healthy")
            elif "healthcheck" not in project.services.get(needed, {}):
                problems.append(f"{name}: waits for {needed} to be healthy, but {needed} has no healthcheck")
    return problems


def check_images_pinned(project: Project) -> list[str]:
    """An unpinned image changes under the measurements."""
    problems = []
    for name, svc in project.services.items():
        image = svc.get("image")
        if not image:
            problems.append(f"{name}: no image")
            continue
        if "@sha256:" in image:
            continue
        repo, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
        if image.startswith(OWN_IMAGE_PREFIX):
            if not build_of(svc):
                problems.append(f"{name}: {image} is a project image but the service has no build")
            continue
        if not tag:
            problems.append(f"{name}: image {image} has no tag")
        elif tag == "latest" or not re.search(r"\d+\.\d+", tag):
            problems.append(f"{name}: image {image} is not pinned to a version (x.y[.z])")
    text = (ROOT / "Dockerfile").read_text()
    stages = set(re.findall(r"^\s*FROM\s+.*?\s+AS\s+(\S+)", text, re.M | re.I))
    for image in re.findall(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", text, re.M | re.I):
        if image in stages or image == "scratch" or "@sha256:" in image:
            continue
        if ":" not in image.split("/")[-1]:
            problems.append(f"Dockerfile: FROM {image} has no tag")
        elif image.endswith(":latest"):
            problems.append(f"Dockerfile: FROM {image} uses latest")
    return problems


def check_limits_and_restart(project: Project) -> list[str]:
    """Limits make the energy measurements comparable; a crash restarts the service."""
    problems = []
    for name, svc in project.services.items():
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if "cpus" not in limits or "memory" not in limits:
            problems.append(f"{name}: deploy.resources.limits needs cpus and memory")
        if name != "k6" and svc.get("restart") != "unless-stopped":
            problems.append(f"{name}: restart is {svc.get('restart')!r}, expected unless-stopped")
    return problems


def check_k6_service(project: Project) -> list[str]:
    """k6 is the original's load test, run only on demand."""
    svc = project.services.get("k6", {})
    problems = []
    if "load" not in (svc.get("profiles") or []):
        problems.append("k6: not in profile `load` (it would start with `up`)")
    if not any(m["source"] == "./k6" and m["target"] == "/k6" for m in mounts_of(svc)):
        problems.append("k6: ./k6 is not mounted at /k6")
    command = svc.get("command")
    command = command.split() if isinstance(command, str) else command
    if command != ["run", "/k6/load.js"]:
        problems.append(f"k6: command {command}, expected run /k6/load.js")
    host = env_of(svc).get("K6_HOST")
    if host != f"http://fights:{SERVICES['fights']['port']}":
        problems.append(f"k6: K6_HOST is {host!r}, expected http://fights:{SERVICES['fights']['port']}")
    if depends_of(svc).get("fights") != "service_healthy":
        problems.append("k6: does not wait for fights to be healthy")
    return problems


def check_included_files_in_context(project: Project) -> list[str]:
    """A file compiled in but left out of the build context fails the image build."""
    problems = []
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^\s*COPY\s+(?!--from)(?:--\S+\s+)*(.+?)\s+\S+\s*$", dockerfile, re.M)
    sources = {Path(s).as_posix().strip("./") or "." for line in copied for s in line.split()}
    patterns = dockerignore_patterns()
    for crate_dir in project.crates.values():
        for rs in (crate_dir / "src").rglob("*.rs"):
            for rel in re.findall(r'include_(?:str|bytes)!\(\s*"([^"]+)"', rs.read_text(errors="replace")):
                target = (rs.parent / rel).resolve()
                try:
                    in_repo = target.relative_to(ROOT).as_posix()
                except ValueError:
                    problems.append(f"{rs.relative_to(ROOT)}: includes {rel}, outside the repository")
                    continue
                if not any(s == "." or in_repo == s or in_repo.startswith(s + "/") for s in sources):
                    problems.append(f"{rs.relative_to(ROOT)}: includes {in_repo}, which the Dockerfile does not COPY")
                if ignored(in_repo, patterns):
                    problems.append(f"{rs.relative_to(ROOT)}: includes {in_repo}, excluded by .dockerignore")
    for needed in ("Cargo.toml", "Cargo.lock", "services/kit/src/lib.rs"):
        if ignored(needed, patterns):
            problems.append(f".dockerignore excludes {needed}, which the build needs")
    for heavy in ("target/release/x", ".git/HEAD", "k6/results/x.json"):
        if not ignored(heavy, patterns):
            problems.append(f".dockerignore does not exclude {heavy.rsplit('/', 1)[0]}/")
    return problems


def check_usage_scenario(project: Project) -> list[str]:
    """The energy-measurement tool reads usage_scenario.yml with compose.yml included and
    expands no variables."""
    path = ROOT / "usage_scenario.yml"
    if not path.exists():
        return ["usage_scenario.yml is missing"]

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!include", lambda loader, node: "!include " + loader.construct_scalar(node))
    scenario = yaml.load(path.read_text(), Loader=Loader)
    problems = []
    for key in ("name", "author", "description", "flow"):
        if not scenario.get(key):
            problems.append(f"no `{key}`")
    if scenario.get("compose-file") != "!include compose.yml":
        problems.append("`compose-file: !include compose.yml` is missing")
    overrides = scenario.get("services") or {}
    k6 = overrides.get("k6") or {}
    if not isinstance(k6.get("command"), str) or "sleep" not in k6.get("command", ""):
        problems.append("services.k6.command must be a string that keeps the container up (a sleep loop)")
    if not isinstance(k6.get("entrypoint", ""), str):
        problems.append("services.k6.entrypoint must be a string")
    if (k6.get("environment") or {}).get("K6_HOST") != f"http://fights:{SERVICES['fights']['port']}":
        problems.append("services.k6.environment.K6_HOST is not http://fights:8004")
    if not any(str(v).split(":")[:2] == ["./k6", "/k6"] for v in k6.get("volumes") or []):
        problems.append("services.k6 does not mount ./k6 at /k6")
    # The tool does not expand ${VAR:-default}: whatever compose.yml sets through a
    # variable must be overridden with its default.
    for name, svc in project.services.items():
        over = overrides.get(name) or {}
        if any(VARIABLE.search(p) for p in port_specs(svc)):
            if [default_of(p) for p in port_specs(svc)] != [str(p) for p in over.get("ports") or []]:
                problems.append(f"{name}: ports use a variable; the scenario must give them as {[default_of(p) for p in port_specs(svc)]}")
        for var, value in env_of(svc).items():
            if VARIABLE.search(value) and (over.get("environment") or {}).get(var) != default_of(value):
                problems.append(f"{name}: {var} uses a variable; the scenario must set it to {default_of(value)!r}")
    rates = []
    for step in scenario.get("flow") or []:
        if step.get("container") != "k6":
            problems.append(f"flow step {step.get('name')!r} does not run in the k6 container")
        for command in step.get("commands") or []:
            match = re.fullmatch(r"k6 run -e RAMPING_RATE=(\d+) /k6/load\.js", str(command.get("command", "")))
            if command.get("type") != "console" or not match:
                problems.append(f"flow step {step.get('name')!r}: {command.get('command')!r} is not `k6 run -e RAMPING_RATE=<rate> /k6/load.js`")
                continue
            rates.append(int(match.group(1)))
            if not re.fullmatch(r"[.\s0-9a-zA-Z_()-]+", str(step.get("name", ""))):
                problems.append(f"flow step name {step.get('name')!r} has characters the tool rejects")
    if rates != [1, 10, 50, 75, 100, 500]:
        problems.append(f"flow rates {rates}, expected [1, 10, 50, 75, 100, 500]")
    return problems


def check_workspace_in_image(project: Project) -> list[str]:
    """cargo reads every workspace member's manifest and targets, even when building one."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^\s*COPY\s+(?!--from)(?:--\S+\s+)*(.+?)\s+\S+\s*$", dockerfile, re.M)
    sources = {Path(s).as_posix().strip("./") or "." for line in copied for s in line.split()}
    patterns = dockerignore_patterns()
    workspace = (ROOT / "Cargo.toml").read_text()
    members = re.search(r"members\s*=\s*\[(.*?)\]", workspace, re.S)
    problems = []
    for member in re.findall(r'"([^"]+)"', members.group(1) if members else ""):
        crate = ROOT / member
        needed = [crate / "Cargo.toml"] + [d for d in (crate / "src", crate / "benches", crate / "tests") if d.is_dir()]
        for path in needed:
            rel = path.relative_to(ROOT).as_posix()
            if path.name == "tests":
                continue  # cargo build does not read integration tests
            if not any(s == "." or rel == s or rel.startswith(s + "/") for s in sources):
                problems.append(f"{rel}: not copied by the Dockerfile")
            elif ignored(rel, patterns):
                problems.append(f"{rel}: excluded by .dockerignore")
    return problems


def compose_cli() -> list[str] | None:
    """The Compose command line on PATH (v1 `docker-compose` or the v2 plugin), or None."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def config_check(cli: list[str]) -> Callable[[Project], list[str]]:
    """The check that Compose itself accepts the file, with `cli`, with the `load` profile
    so that k6 is validated too."""

    def check_compose_config(project: Project) -> list[str]:
        proc = subprocess.run(
            cli + ["-f", str(project.path), "config", "-q"],
            cwd=project.base,
            capture_output=True,
            text=True,
            env={**os.environ, "COMPOSE_PROFILES": "load"},
        )
        if proc.returncode != 0:
            return [line for line in (proc.stderr or proc.stdout).strip().splitlines()] or [
                f"exit code {proc.returncode}"
            ]
        return []

    return check_compose_config


# Every check under the name it is reported by, in the order reported.
CHECKS: list[tuple[str, Callable[[Project], list[str]]]] = [
    ("compose.yml follows the Compose spec: services present, no `version:`", check_compose_spec),
    ("every build context and Dockerfile exists, and the Dockerfile takes ARG SERVICE", check_build_contexts),
    ("every bind-mounted file or folder exists", check_bind_mounts),
    ("init scripts are mounted read-only at /docker-entrypoint-initdb.d", check_init_scripts_read_only),
    ("each service publishes its own port (heroes 8001, villains 8002, locations 8003, fights 8004)", check_published_ports),
    ("published ports are configurable: ${<SERVICE>_PORT:-<port>}, so the system can run beside a native one", check_ports_configurable),
    ("BIND_ADDR port == container port == health-check target", check_bind_addr_ports),
    ("second servers (locations gRPC 8089) listen on the port published for them", check_extra_addr_ports),
    ("the Dockerfile's health check uses the binary's healthcheck mode", check_dockerfile_healthcheck),
    ("every environment variable set on a Rust service is read by that service's code", check_environment_read),
    ("every Rust service depends on its database (and fights on the catalogues) with service_healthy", check_depends_healthy),
    ("every image is pinned (third-party: explicit version tag, never `latest`)", check_images_pinned),
    ("every service has cpu and memory limits and a restart policy", check_limits_and_restart),
    ("k6 runs /k6/load.js against fights, only in the `load` profile", check_k6_service),
    ("files compiled in with include_str!/include_bytes! are in the image build context", check_included_files_in_context),
    ("usage_scenario.yml includes compose.yml, keeps k6 up and runs k6/load.js at 1, 10, 50, 75, 100, 500 it/s", check_usage_scenario),
    ("every workspace member's manifest and targets are in the image build (cargo loads them all)", check_workspace_in_image),
]


def run_check(name: str, check: Callable[[Project], list[str]], project: Project) -> list[str]:
    """Runs one check and prints its result; a check that crashes fails with the crash
    as its problem, and the checks after it still run."""
    try:
        problems = check(project) or []
    except Exception as err:
        problems = [f"check crashed: {type(err).__name__}: {err}"]
    print(("PASS " if not problems else "FAIL ") + name)
    for problem in problems:
        print(f"     - {problem}")
    return problems


def main(argv: list[str]) -> int:
    """Checks the compose file in argv[1] (compose.yml by default); returns the exit code."""
    if yaml is None:
        print("compose_check: PyYAML is missing (apt-get install python3-yaml, or pip install pyyaml)")
        return 2
    path = Path(argv[1]).resolve() if len(argv) > 1 else ROOT / "compose.yml"
    try:
        project = load_project(path)
    except Unreadable as err:
        print(err)
        print("compose: 0 passed, 1 failed")
        return 1
    checks = list(CHECKS)
    cli = compose_cli()
    if cli is None:
        skipped = "SKIP `docker-compose config -q` (neither docker-compose nor `docker compose` on PATH)"
    else:
        skipped = None
        checks.append((f"`{' '.join(cli)} -f {path.name} config -q` accepts the file", config_check(cli)))
    failed = 0
    for name, check in checks:
        failed += bool(run_check(name, check, project))
    if skipped:
        print(skipped)
    print(f"compose: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
