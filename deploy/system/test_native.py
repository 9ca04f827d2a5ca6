"""Unit tests of deploy/system/native.py: the /proc parsers on sample lines, ports and the
state folder from an environment map. No running system.

    python3 -m unittest discover -s deploy/system -p 'test_*.py'      (from the repository root)
"""

import os
import unittest
from pathlib import Path

from deploy.system import native

# /proc/<pid>/stat of a process whose command name holds a space and a parenthesis.
STAT = ("4242 (fights (w) 1) S 1 4242 4242 0 -1 4194560 1234 0 0 0 "
        "750 250 0 0 20 0 3 0 24741 3133440 409 18446744073709551615")
STATUS = """Name:\tfights
State:\tS (sleeping)
VmPeak:\t  120000 kB
VmHWM:\t   20480 kB
VmRSS:\t   10240 kB
Threads:\t3
"""


class ProcParsersTest(unittest.TestCase):
    def test_stat_fields_start_after_the_command_name(self):
        self.assertEqual(native.stat_state(STAT), "S")

    def test_stat_ticks_are_utime_and_stime(self):
        self.assertEqual(native.stat_ticks(STAT), (750, 250))

    def test_ticks_to_seconds_at_a_given_rate_and_at_the_kernel_s(self):
        self.assertEqual(native.ticks_to_seconds(750, hz=100), 7.5)
        self.assertEqual(native.ticks_to_seconds(os.sysconf("SC_CLK_TCK")), 1.0)

    def test_schedstat_first_value_is_nanoseconds_on_cpu(self):
        self.assertEqual(native.schedstat_ns("1500000000 20000 300\n"), 1_500_000_000)

    def test_status_fields_in_kb(self):
        self.assertEqual(native.status_kb(STATUS, "VmHWM"), 20480)
        self.assertEqual(native.status_kb(STATUS, "VmRSS"), 10240)
        self.assertIsNone(native.status_kb(STATUS, "VmSwap"))

    def test_database_processes_by_comm_or_the_mongodb_stand_in_s_cmdline(self):
        self.assertEqual(native.database_kind("postgres", "postgres: checkpointer "), "postgres")
        self.assertEqual(native.database_kind("mariadbd", "/usr/sbin/mariadbd "), "mariadb")
        self.assertEqual(native.database_kind("python3", "python3 nx-27017 --port 27017 "), "mongodb")
        self.assertIsNone(native.database_kind("fights", "/target/release/fights "))
        self.assertIsNone(native.database_kind("python3", "python3 postgres.py "))


class ProcReadersTest(unittest.TestCase):
    def test_this_process_is_alive_and_measured(self):
        pid = os.getpid()
        self.assertTrue(native.alive(pid))
        self.assertGreater(native.cpu_seconds(pid), 0)
        self.assertGreater(native.peak_rss_mb(pid), 0)

    def test_a_pid_that_does_not_exist_reads_as_gone(self):
        missing = 2**22 + 1  # above the kernel's pid_max limit
        self.assertFalse(native.alive(missing))
        self.assertIsNone(native.cpu_seconds(missing))
        self.assertIsNone(native.rss_mb(missing))
        self.assertEqual(native.kernel_ticks(missing), (0, 0))


class EnvironmentTest(unittest.TestCase):
    def test_ports_default_to_system_sh_s(self):
        self.assertEqual(native.ports({}), {"heroes": 8001, "villains": 8002,
                                            "locations": 8003, "fights": 8004})

    def test_a_port_variable_moves_one_service(self):
        self.assertEqual(native.ports({"FIGHTS_PORT": "18004"})["fights"], 18004)

    def test_state_folder(self):
        self.assertEqual(native.state_dir({}), Path("/tmp/superheroes"))
        self.assertEqual(native.state_dir({"SUPERHEROES_STATE": "/var/x"}), Path("/var/x"))


if __name__ == "__main__":
    unittest.main()
