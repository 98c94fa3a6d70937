#!/usr/bin/env python3
"""bench/ban: what one digest registration costs one sipwarden, stably (issue #13).

Runs one sipwarden with bench_ban.py's configuration (the `sw-gate` form: no kernel
drop, which nothing here exercises) and drives the register phase's load at it (sipp
register.xml, 100 users, the PBX stand-in): 300 registrations to warm up, then COUNT
measured ones at RATE per second. MODE:

  callgrind  sipwarden under valgrind --tool=callgrind; the instructions of the measured
             registrations (callgrind_control --zero before, --dump after), per
             registration; the dump stays in the output folder for callgrind_annotate.
             Use a low RATE (50): valgrind slows the gateway some 50 times.
  strace     strace -c -f attached to every thread for the measured registrations: the
             system calls per registration and the table.
  perf       perf record -g of the process during the measured registrations.
  cpu        the process's time on a CPU (schedstat) per 10,000 registrations.

  bench/ban/profile_register.py BIN MODE [COUNT] [RATE]      (defaults: 1000, 200)

Unlike run.sh it neither builds nor runs Kamailio: give it a built binary
(build/bench-ban-head/src/sipwarden after a run.sh --head). Output folder: printed.
"""
import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
# pylint: disable-next=wrong-import-position
import bench_ban as bb  # noqa: E402
# pylint: disable-next=wrong-import-position
from benchlib import PBX_IP, PROXY_IP, free_port, parse_sipp_csv, sched_seconds  # noqa: E402

USERS = 100
WARM_UP = 300


class Run:
    def __init__(self, binary, mode):
        self.out = tempfile.mkdtemp(prefix="sipwarden-profile-register-")
        self.users_csv = os.path.join(self.out, "users.csv")
        bb.write_users_csv(self.users_csv, USERS)
        self.uas_port = free_port()
        self.phone_port = free_port()
        workdir = os.path.join(self.out, "sipwarden")
        os.makedirs(workdir)
        self.proxy = bb.BanSipwarden("sw-gate", workdir, os.path.abspath(binary),
                                     self.uas_port, USERS)
        self.callgrind_out = os.path.join(workdir, "callgrind.out")
        if mode == "callgrind":
            self.proxy.wrapper = ["valgrind", "--tool=callgrind", "--dump-instr=no",
                                  f"--callgrind-out-file={self.callgrind_out}"]
            self.proxy.start_timeout = 300
        self.proxy.start()
        print(f"output in {self.out}; sipwarden pid {self.proxy.proc.pid}", flush=True)

    def load(self, count, rate, tag):
        """COUNT registrations at RATE/s; the number that succeeded."""
        rundir = os.path.join(self.out, tag)
        os.makedirs(rundir)
        uas = subprocess.Popen(["sipp", "-sf", bb.PBX_REGISTRAR, "-i", PBX_IP, "-p",
                                str(self.uas_port), "-m", str(count), "-nostdin", "-timeout",
                                "600s", "-trace_stat", "-stf", "pbx.csv", "-fd", "1"],
                               cwd=rundir, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        phone = subprocess.run(["sipp", f"{PROXY_IP}:{self.proxy.port}", "-sf",
                                os.path.join(HERE, "register.xml"), "-inf", self.users_csv,
                                "-i", bb.PHONE_IP, "-p", str(self.phone_port), "-m", str(count),
                                "-r", str(rate), "-nostdin", "-timeout", "600s",
                                "-timeout_error", "-recv_timeout", "10000", "-trace_stat",
                                "-stf", "phone.csv", "-fd", "1", "-trace_err", "-error_file",
                                "phone.err"],
                               cwd=rundir, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False)
        try:
            uas.wait(timeout=20)
        except subprocess.TimeoutExpired:
            uas.kill()
            uas.wait()
        ok = parse_sipp_csv(os.path.join(rundir, "phone.csv"), count).get("successful", 0)
        print(f"{tag}: sipp rc {phone.returncode}, {ok} of {count} registrations succeeded",
              flush=True)
        return ok

    def callgrind(self, count, rate):
        pid = str(self.proxy.proc.pid)
        subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
        ok = self.load(count, rate, "run")
        time.sleep(1)
        before = set(glob.glob(self.callgrind_out + "*"))
        subprocess.run(["callgrind_control", "--dump", pid], check=True, capture_output=True)
        time.sleep(1)
        total = 0
        for path in sorted(set(glob.glob(self.callgrind_out + "*")) - before):
            print(f"dump: {path}")
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.startswith(("summary:", "totals:")):
                        total += int(line.split()[1])
                        break
        print(f"instructions: {total}, per registration: {total // max(ok, 1)}")

    def strace(self, count, rate):
        table = os.path.join(self.out, "strace.txt")
        cmd = ["strace", "-c", "-f", "-o", table]
        for tid in os.listdir(f"/proc/{self.proxy.proc.pid}/task"):
            cmd += ["-p", tid]
        tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        ok = self.load(count, rate, "run")
        time.sleep(1)
        tracer.send_signal(signal.SIGINT)
        tracer.wait()
        with open(table, encoding="utf-8") as f:
            text = f.read()
        print(text)
        for line in text.splitlines():
            fields = line.split()
            if fields and fields[-1] == "total":
                print(f"system calls per registration: {int(fields[3]) / max(ok, 1):.2f}")

    def perf(self, count, rate):
        data = os.path.join(self.out, "perf.data")
        rec = subprocess.Popen(["perf", "record", "-F", "4999", "-g", "-o", data, "-p",
                                str(self.proxy.proc.pid)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        self.load(count, rate, "run")
        rec.send_signal(signal.SIGINT)
        rec.wait()
        print(f"perf data: {data}")

    def cpu(self, count, rate):
        pids = [self.proxy.proc.pid]
        before = sched_seconds(pids)
        ok = self.load(count, rate, "run")
        time.sleep(1)
        spent = sched_seconds(pids) - before
        print(f"cpu: {spent:.4f} s, per 10,000 registrations: "
              f"{spent * 10000 / max(ok, 1):.3f} s")


def main(argv):
    if len(argv) < 2 or argv[1] not in ("callgrind", "strace", "perf", "cpu"):
        print(__doc__, file=sys.stderr)
        return 2
    binary, mode = argv[0], argv[1]
    count = int(argv[2]) if len(argv) > 2 else 1000
    rate = int(argv[3]) if len(argv) > 3 else 200
    run = Run(binary, mode)
    try:
        run.load(WARM_UP, rate, "warm-up")
        time.sleep(1)
        getattr(run, mode)(count, rate)
    finally:
        run.proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
