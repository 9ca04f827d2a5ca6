"""Unit tests of compose_check.py's readers of Compose's forms and of its .dockerignore
matching, and of its runner; the checks themselves run on compose.yml in `make test`.

    python3 -m unittest discover -s deploy/system -p 'test_*.py'      (from the repository root)
"""

import contextlib
import io
import unittest
from pathlib import Path

from deploy.system import compose_check as cc


class ComposeFormsTest(unittest.TestCase):
    def test_environment_from_a_map_or_a_list(self):
        self.assertEqual(cc.env_of({"environment": {"A": 1, "B": None}}), {"A": "1", "B": ""})
        self.assertEqual(cc.env_of({"environment": ["A=1", "B=x=y", "C"]}),
                         {"A": "1", "B": "x=y", "C": ""})
        self.assertEqual(cc.env_of({}), {})

    def test_mounts_short_and_long(self):
        self.assertEqual(cc.mounts_of({"volumes": ["./database/x:/docker-entrypoint-initdb.d:ro", "data:/var"]}), [
            {"source": "./database/x", "target": "/docker-entrypoint-initdb.d", "read_only": True, "bind": True},
            {"source": "data", "target": "/var", "read_only": False, "bind": False},
        ])
        self.assertEqual(cc.mounts_of({"volumes": [{"type": "bind", "source": "./k6", "target": "/k6"}]}),
                         [{"source": "./k6", "target": "/k6", "read_only": False, "bind": True}])

    def test_variables_at_their_defaults(self):
        self.assertEqual(cc.default_of("${FIGHTS_PORT:-8004}:8004"), "8004:8004")
        self.assertEqual(cc.default_of("plain"), "plain")

    def test_ports_as_host_and_container(self):
        svc = {"ports": ["${HEROES_PORT:-8001}:8001", "9000/udp", "127.0.0.1:7000:7001",
                         {"published": "${X:-5}", "target": 6}]}
        self.assertEqual(cc.ports_of(svc), [(8001, 8001), (None, 9000), (7000, 7001), (5, 6)])
        self.assertEqual(cc.port_specs(svc), ["${HEROES_PORT:-8001}:8001", "9000", "127.0.0.1:7000:7001"])

    def test_healthcheck_depends_on_and_build_forms(self):
        self.assertEqual(cc.health_cmd({"healthcheck": {"test": "curl x"}}), ["CMD-SHELL", "curl x"])
        self.assertEqual(cc.health_cmd({"healthcheck": {"test": ["CMD", "/app/service", "healthcheck"]}}),
                         ["CMD", "/app/service", "healthcheck"])
        self.assertEqual(cc.health_cmd({}), [])
        self.assertEqual(cc.depends_of({"depends_on": ["a"]}), {"a": "service_started"})
        self.assertEqual(cc.depends_of({"depends_on": {"a": {"condition": "service_healthy"}, "b": None}}),
                         {"a": "service_healthy", "b": "service_started"})
        self.assertEqual(cc.build_of({"build": "."}), {"context": "."})
        self.assertEqual(cc.build_args({"args": ["SERVICE=heroes"]}), {"SERVICE": "heroes"})
        self.assertEqual(cc.build_args({"args": {"PORT": 8001}}), {"PORT": "8001"})

    def test_port_of_an_address(self):
        self.assertEqual(cc.port_of_addr("0.0.0.0:8004"), 8004)
        self.assertIsNone(cc.port_of_addr("0.0.0.0"))


class DockerignoreTest(unittest.TestCase):
    PATTERNS = [("target", False), ("bench/*", False), ("bench/src", True), ("**/__pycache__", False)]

    def test_a_pattern_covers_everything_below(self):
        self.assertTrue(cc.ignored("target/release/x", self.PATTERNS))

    def test_the_last_match_wins(self):
        self.assertTrue(cc.ignored("bench/load.py", self.PATTERNS))
        self.assertFalse(cc.ignored("bench/src/lib.rs", self.PATTERNS))

    def test_double_star_matches_at_any_depth(self):
        self.assertTrue(cc.ignored("deploy/system/__pycache__/x.pyc", self.PATTERNS))
        self.assertFalse(cc.ignored("services/kit/src/lib.rs", self.PATTERNS))


class RunnerTest(unittest.TestCase):
    def test_every_check_has_a_distinct_name_and_a_named_function(self):
        names = [name for name, _ in cc.CHECKS]
        self.assertEqual(len(names), len(set(names)))
        for _, check in cc.CHECKS:
            self.assertTrue(check.__name__.startswith("check_"), check.__name__)
            self.assertTrue(check.__doc__, check.__name__)

    def test_a_crashing_check_fails_with_the_crash_and_is_reported_by_name(self):
        def check_crashes(project):
            raise KeyError("ports")

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            problems = cc.run_check("a check", check_crashes, None)
        self.assertEqual(problems, ["check crashed: KeyError: 'ports'"])
        self.assertEqual(out.getvalue(), "FAIL a check\n     - check crashed: KeyError: 'ports'\n")

    def test_a_missing_file_cannot_be_checked(self):
        missing = Path(__file__).parent / "no-such-compose.yml"
        with self.assertRaises(cc.Unreadable) as raised:
            cc.load_project(missing)
        self.assertEqual(str(raised.exception), f"compose_check: {missing} does not exist")


if __name__ == "__main__":
    unittest.main()
