#!/usr/bin/env python3
"""bench/calls: the same sipp call load through sipwarden and through Kamailio.

Calls are INVITE, 100, 180, 200, ACK, a 1 s hold, BYE, 200 over UDP on loopback: a sipp
UAC on 127.0.0.2 stands for the trunk provider, a sipp UAS on 127.0.0.1 for the PBX. Both
proxies run side by side for the whole benchmark; the runs alternate between them.

Phase 1 (CPU): RATE calls/s, CALLS calls per run, ROUNDS rounds in the order A B, B A, ...
The CPU of all of a proxy's processes (utime + stime from /proc/<pid>/stat) is read before
the caller starts and after the callee has finished (its 4 s timewait, plus SETTLE s, so
that the proxies' transaction and dialog timers have run), and is given per 10,000 calls.

Phase 2 (highest clean rate): steps of STEP_SECONDS at each rate; a proxy's search stops
at its first step with a failed call (or when sipp could not produce the rate itself).

Everything is bounded: every sipp has -timeout and is killed past a deadline; the whole
benchmark stops starting runs after --max-minutes. Only processes started here are
stopped, by their PID. Results: a table on stdout and results.json in the output folder.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
UAC_IP = "127.0.0.2"  # the trunk provider
PBX_IP = "127.0.0.1"  # the PBX (sipp UAS)
PROXY_IP = "127.0.0.1"
HOLD_MS = 1000
DID = "+15551230001"
UAS_TIMEWAIT_S = 4  # <timewait> of uas.xml
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"

FULL = {"cpu_rate": 300, "cpu_calls": 6000, "rounds": 2,
        "steps": [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000],
        "step_seconds": 10,
        "sustain_seconds": 30}
QUICK = {"cpu_rate": 300, "cpu_calls": 3000, "rounds": 1,
         "steps": [1000, 2000, 3000, 4000], "step_seconds": 5, "sustain_seconds": 0}


def log(msg):
    print(f"[bench/calls {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP (the kernel picks it)."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("0.0.0.0", port))
        except OSError:
            t.close()
            continue
        finally:
            u.close()
        t.close()
        return port
    raise RuntimeError("no free port after 50 tries")


def proc_stat(pid):
    """Fields of /proc/<pid>/stat after the command name, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            data = f.read()
    except OSError:
        return None
    return data.rsplit(")", 1)[1].split()


def cpu_seconds(pids):
    """utime + stime of the processes (every thread included), in seconds."""
    ticks = 0
    for pid in pids:
        fields = proc_stat(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def task_cpu(pid):
    """CPU seconds of every thread of a process, by "tid name"."""
    res = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return res
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii", errors="replace") as f:
                data = f.read()
        except OSError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data.rsplit(")", 1)[1].split()
        res[f"{tid} {name}"] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return res


def delta(after, before):
    """Per-key difference of two {name: seconds} maps, only where CPU was used."""
    out = {}
    for key, value in after.items():
        used = round(value - before.get(key, 0.0), 2)
        if used > 0:
            out[key] = used
    return out


def machine_cpu_seconds():
    """CPU seconds used by every task of the machine so far, from the root cgroup's
    precise accounting (cgroup v1 cpuacct or v2 cpu.stat); None when neither exists.
    /proc/stat is no substitute: it samples by timer ticks, and a proxy that wakes for
    a few microseconds per packet is mostly asleep at the tick (it under-counted this
    load by half)."""
    try:
        with open("/sys/fs/cgroup/cpuacct/cpuacct.usage", encoding="ascii") as f:
            return int(f.read()) / 1e9
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu.stat", encoding="ascii") as f:
            for line in f:
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
    except (OSError, ValueError):
        pass
    return None


def group_pids(pgid):
    """Live processes of a process group (Kamailio's main process and its children)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = proc_stat(name)
        if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(name))
    return pids


def wait_pid(pid, deadline):
    """Waits for a child until the monotonic deadline; (status, rusage) or None."""
    while True:
        done, status, rusage = os.wait4(pid, os.WNOHANG)
        if done == pid:
            return status, rusage
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def stop_child(pid, grace):
    """SIGTERM, then SIGKILL after grace seconds; (status, rusage) of the child."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    res = wait_pid(pid, time.monotonic() + grace)
    if res is None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        res = wait_pid(pid, time.monotonic() + 5)
    return res


class Proxy:
    """A proxy under test: started once, measured by its processes' CPU."""

    name = "?"

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(workdir, f"{self.name}.log")
        self.restarts = 0

    def pids(self):
        raise NotImplementedError

    def cpu(self):
        return cpu_seconds(self.pids())

    def breakdown(self):
        """CPU seconds per thread or process, to show how the work was spread."""
        return {}

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self):
        raise NotImplementedError

    def command(self):
        raise NotImplementedError

    def start(self):
        logf = open(self.log_path, "a", encoding="utf-8")
        self.proc = subprocess.Popen(self.command(), cwd=self.workdir, stdout=logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        logf.close()
        self.wait_ready()

    def stop(self):
        if self.proc is None:
            return None
        pids = [p for p in self.pids() if p != self.proc.pid]
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(timeout=5)
        for pid in pids:  # children that outlived their parent
            if proc_stat(pid) is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None
        return rc

    def before_run(self):
        """Called before each run's load starts."""

    def after_run(self):
        """Checks after a run (calls left in the proxy); a dict for the results."""
        return {}

    def after_stop(self):
        """What the proxy reported when it stopped; a dict for the results."""
        return {}


class Sipwarden(Proxy):
    name = "sipwarden"

    def __init__(self, workdir, binary, uac_port, uas_port, workers):
        super().__init__(workdir)
        self.binary = binary
        self.admin_port = free_port()
        self.conf = os.path.join(workdir, "sipwarden.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(SIPWARDEN_CONF.format(port=self.port, uas_ip=PBX_IP, uas_port=uas_port,
                                          uac_ip=UAC_IP, uac_port=uac_port,
                                          admin_port=self.admin_port, workers=workers))

    def command(self):
        return [self.binary, "run", "-c", self.conf]

    def pids(self):
        return [self.proc.pid] if self.alive() else []

    def breakdown(self):
        return task_cpu(self.proc.pid) if self.alive() else {}

    def wait_ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                if "serving with" in f.read():
                    return
            if not self.alive():
                break
            time.sleep(0.05)
        raise RuntimeError(f"sipwarden did not start (see {self.log_path})")

    def metrics(self):
        """sipwarden's counters from its admin server (/metrics), {name{labels}: value}."""
        url = f"http://127.0.0.1:{self.admin_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                text = resp.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return {}
        res = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                try:
                    res[key] = float(value)
                except ValueError:
                    pass
        return res

    def before_run(self):
        self.metrics0 = self.metrics()

    def after_run(self):
        # What the gateway counted during the run: calls, and whether any check
        # (rate limits, scanner, ACL, the gate) acted on the benchmark's load.
        now = self.metrics()
        before = getattr(self, "metrics0", {})
        changed = {k: round(v - before.get(k, 0.0)) for k, v in now.items()
                   if "_total" in k or "dropped" in k}
        return {"metrics": {k: v for k, v in changed.items() if v}}

    def after_stop(self):
        # The gateway logs its per-worker and per-trunk call counts when it stops.
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            lines = [ln.strip() for ln in f if "at stop" in ln or "stopped with" in ln]
        return {"stop_log": lines}


# Every check sipwarden has is on (they are on by default); the limits that would stop
# the load generator, a single trunk source sending thousands of requests per second,
# are raised, as pike's is for Kamailio: 10,000 INVITE/s and 20,000 other requests/s for
# the trunk (rate x known_factor), 100,000 requests/s in all.
SIPWARDEN_CONF = """; bench/calls: generated by bench_calls.py
[general]
listen = udp:127.0.0.1:{port}
workers = {workers}
log_level = notice
[pbx]
address = udp:{uas_ip}:{uas_port}
[acl]
permit = {uac_ip}/32
[ratelimit]
invite_rate = 500
invite_burst = 1000
other_rate = 1000
other_burst = 2000
known_factor = 20
global_rate = 100000
[scanner]
enabled = yes
[admin]
listen = 127.0.0.1:{admin_port}
[provider]
type = trunk
provider = udp:{uac_ip}:{uac_port}
permit = {uac_ip}/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
"""


class Kamailio(Proxy):
    name = "kamailio"

    def __init__(self, workdir, cfg, uas_port, children, shm_mb):
        super().__init__(workdir)
        self.shm_mb = shm_mb
        self.cfg = cfg
        self.uas_port = uas_port
        self.children = children
        self.allow = os.path.join(workdir, "allow.list")
        self.ctl = os.path.join(workdir, "kamailio-ctl.sock")
        self.pidfile = os.path.join(workdir, "kamailio.pid")
        with open(self.allow, "w", encoding="utf-8") as f:
            f.write(f"# group address mask port\n1 {UAC_IP} 32 0\n1 {PBX_IP} 32 0\n")

    def command(self):
        return ["kamailio", "-f", self.cfg, "-DD", "-E", "-n", str(self.children),
                "-m", str(self.shm_mb), "-L", KAMAILIO_MODULES,
                "-l", f"udp:{PROXY_IP}:{self.port}", "-P", self.pidfile, "-w", self.workdir,
                "-A", f'UAS_URI="sip:{PBX_IP}:{self.uas_port}"',
                "-A", f'ALLOW_FILE="{self.allow}"', "-A", f'CTL_SOCK="unix:{self.ctl}"']

    def pids(self):
        return group_pids(self.proc.pid) if self.alive() else []

    def breakdown(self):
        if not self.alive():
            return {}
        if not getattr(self, "roles", None):
            self.roles = {}
            for line in self.kamcmd("ps").splitlines():
                pid, _, role = line.strip().partition("\t")
                if pid.isdigit():
                    self.roles[int(pid)] = role.strip()
        return {f"{pid} {self.roles.get(pid, '?')}": cpu_seconds([pid]) for pid in self.pids()}

    def kamcmd(self, *args):
        res = subprocess.run(["kamcmd", "-s", f"unix:{self.ctl}", *args], capture_output=True,
                             text=True, timeout=10, check=False)
        return res.stdout

    def wait_ready(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if not self.alive():
                break
            if os.path.exists(self.ctl) and "udp receiver" in self.kamcmd("ps"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"kamailio did not start (see {self.log_path})")

    def after_run(self):
        out = self.kamcmd("dlg.stats_active")
        for line in out.splitlines():
            key, _, value = line.strip().partition(":")
            if key == "all":
                return {"dialogs_active_after": int(value)}
        return {"dialogs_active_after": None}


class KamailioStateless(Kamailio):
    """For scale: the same Kamailio as a bare stateless forward (-A STATELESS)."""

    name = "kamailio-sl"

    def command(self):
        return super().command() + ["-A", "STATELESS"]

    def after_run(self):
        return {}


def parse_sipp_csv(path, calls):
    """The counters of sipp's last statistics line, and the time all calls were created."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            rows = [line.rstrip("\n").split(";") for line in f if line.strip()]
    except OSError:
        return {}
    if len(rows) < 2:
        return {}
    head = rows[0]
    col = {name: i for i, name in enumerate(head)}

    def epoch(row, name):
        return float(row[col[name]].split("\t")[-1])

    def num(row, name):
        try:
            return int(row[col[name]])
        except (KeyError, ValueError, IndexError):
            return 0

    last = rows[-1]
    start = epoch(last, "StartTime")
    created_at = None
    for row in rows[1:]:
        if num(row, "TotalCallCreated") >= calls:
            created_at = epoch(row, "CurrentTime") - start
            break
    rt = last[col["ResponseTime1(C)"]] if "ResponseTime1(C)" in col else ""
    res = {
        "created": num(last, "TotalCallCreated"),
        "successful": num(last, "SuccessfulCall(C)"),
        "failed": num(last, "FailedCall(C)"),
        "retransmissions": num(last, "Retransmissions(C)"),
        "failed_max_udp_retrans": num(last, "FailedMaxUDPRetrans(C)"),
        "failed_unexpected_msg": num(last, "FailedUnexpectedMessage(C)"),
        "failed_timeout_on_recv": num(last, "FailedTimeoutOnRecv(C)"),
        "dead_call_msgs": num(last, "DeadCallMsgs(C)"),
        "out_of_call_msgs": num(last, "OutOfCallMsgs(C)"),
        "response_time_ms": sipp_duration_ms(rt),
        "all_created_after_s": created_at,
    }
    return res


def failure_reasons(path, top=4):
    """The most frequent reasons in sipp's error file: what was expected, what came."""
    counts = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return {}
    for m in re.finditer(r"while (\w+) '?([^' ]*)'? \(index \d+\), received '([^\r\n]*)", text):
        key = f"{m.group(1)} {m.group(2)}: got {m.group(3)[:40]}"
        counts[key] = counts.get(key, 0) + 1
    for m in re.finditer(r"receive timeout on message [^:]+:(\d+) without label", text):
        key = f"no answer within -recv_timeout at scenario element {m.group(1)}"
        counts[key] = counts.get(key, 0) + 1
    for m in re.finditer(r"Max retransmission[^\r\n']{0,60}", text):
        counts[m.group(0)] = counts.get(m.group(0), 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:top])


def sipp_duration_ms(text):
    """sipp's HH:MM:SS:uuuuuu (microseconds last) in milliseconds, or None."""
    parts = text.split(":")
    if len(parts) != 4:
        return None
    try:
        h, m, s, us = (int(p) for p in parts)
    except ValueError:
        return None
    return round((h * 3600 + m * 60 + s) * 1000 + us / 1000, 3)


class Bench:
    def __init__(self, args, cfg):
        self.args = args
        self.cfg = cfg
        self.out = args.out
        self.uac_port = free_port()
        self.uas_port = free_port()
        self.deadline = time.monotonic() + args.max_minutes * 60
        self.runs = []
        self.proxies = {}
        self.sipps = []

    # -- one run ------------------------------------------------------------------------

    def sipp_uas(self, rundir, calls, timeout_s):
        cmd = ["sipp", "-sf", os.path.join(HERE, "uas.xml"), "-i", PBX_IP,
               "-p", str(self.uas_port), "-m", str(calls), "-nostdin",
               "-timeout", f"{timeout_s}s", "-trace_err", "-error_file", "uas.err",
               "-trace_stat", "-stf", "uas.csv", "-fd", "1"]
        return self.spawn(cmd, rundir, "uas.out")

    def sipp_uac(self, proxy, rundir, rate, calls, timeout_s):
        cmd = ["sipp", f"{PROXY_IP}:{proxy.port}", "-sf", os.path.join(HERE, "uac.xml"),
               "-s", DID, "-i", UAC_IP, "-p", str(self.uac_port), "-m", str(calls),
               "-r", str(rate), "-d", str(HOLD_MS), "-nostdin", "-timeout", f"{timeout_s}s",
               "-timeout_error", "-recv_timeout", "20000", "-trace_err", "-error_file",
               "uac.err", "-trace_stat", "-stf", "uac.csv", "-fd", "1"]
        return self.spawn(cmd, rundir, "uac.out")

    def spawn(self, cmd, rundir, out_name):
        with open(os.path.join(rundir, out_name), "w", encoding="utf-8") as out:
            out.write(" ".join(cmd) + "\n")
            out.flush()
            proc = subprocess.Popen(cmd, cwd=rundir, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.sipps.append(proc.pid)
        return proc

    def stop_sipps(self):
        """Stops the sipp processes still running (after an interruption), by PID."""
        for pid in self.sipps:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    stop_child(pid, 3)
            except ChildProcessError:
                pass
        self.sipps = []

    def run_load(self, proxy, phase, rate, calls):
        """One run of CALLS calls at RATE through PROXY; the record of the run."""
        if not proxy.alive():
            log(f"{proxy.name} is not running: restarting it")
            proxy.restarts += 1
            proxy.start()
        rundir = os.path.join(self.out, "runs", f"{len(self.runs) + 1:02d}-{phase}-"
                              f"{proxy.name}-{rate}cps")
        os.makedirs(rundir)
        timeout_s = int(calls / rate + HOLD_MS / 1000 + 30)
        uas = self.sipp_uas(rundir, calls, timeout_s + 15)
        time.sleep(0.3)
        proxy.before_run()
        parts0, machine0 = proxy.breakdown(), machine_cpu_seconds()
        cpu0, t0 = proxy.cpu(), time.monotonic()
        uac = self.sipp_uac(proxy, rundir, rate, calls, timeout_s)
        uac_res = wait_pid(uac.pid, time.monotonic() + timeout_s + 10)
        if uac_res is None:
            log("sipp UAC past its deadline: stopping it")
            uac_res = stop_child(uac.pid, 3)
        uac_done = time.monotonic()
        uas_res = wait_pid(uas.pid, uac_done + UAS_TIMEWAIT_S + 4)
        if uas_res is None:
            uas_res = stop_child(uas.pid, 3)
        # Let the proxies' timers (Kamailio's wait timer: 5 s) clean up the last calls.
        time.sleep(max(0.0, uac_done + UAS_TIMEWAIT_S + self.args.settle - time.monotonic()))
        cpu1, t1 = proxy.cpu(), time.monotonic()
        machine1 = machine_cpu_seconds()
        other = None if machine0 is None or machine1 is None else machine1 - machine0
        run = self.record(proxy, phase, rate, calls, rundir,
                          (cpu1 - cpu0, t1 - t0, uac_done - t0, other),
                          uac_res, uas_res)
        run["cpu_by_task"] = delta(proxy.breakdown(), parts0)
        return run

    def record(self, proxy, phase, rate, calls, rundir, measured, uac_res, uas_res):
        proxy_cpu, wall, uac_wall, other = measured
        stats = parse_sipp_csv(os.path.join(rundir, "uac.csv"), calls)
        uac_cpu = rusage_cpu(uac_res)
        uas_cpu = rusage_cpu(uas_res)
        successful = stats.get("successful", 0)
        created_after = stats.get("all_created_after_s")
        achieved = None
        if created_after:
            achieved = round(calls / max(created_after, calls / rate), 1)
        run = {
            "proxy": proxy.name, "phase": phase, "rate": rate, "calls": calls,
            "uac_rc": exit_code(uac_res), "uas_rc": exit_code(uas_res),
            "successful": successful, "failed": calls - successful,
            "proxy_cpu_s": round(proxy_cpu, 2),
            "cpu_s_per_10k": round(proxy_cpu * 10000 / calls, 3),
            "proxy_processes": len(proxy.pids()),
            "sipp_uac_cpu_s": uac_cpu, "sipp_uas_cpu_s": uas_cpu,
            "other_cpu_s": None if other is None else
            round(other - proxy_cpu - (uac_cpu or 0) - (uas_cpu or 0), 2),
            "wall_s": round(wall, 1),
            "uac_wall_s": round(uac_wall, 1), "achieved_rate": achieved,
            "proxy_alive_after": proxy.alive(), "dir": os.path.relpath(rundir, self.out),
        }
        run.update({k: v for k, v in stats.items() if k not in ("successful",)})
        if run["failed"]:
            run["failure_reasons"] = failure_reasons(os.path.join(rundir, "uac.err"))
        run.update(proxy.after_run() if proxy.alive() else {})
        run["clean"] = (run["uac_rc"] == 0 and run["failed"] == 0
                        and stats.get("failed", 1) == 0 and run["proxy_alive_after"])
        self.runs.append(run)
        log(f"{proxy.name:9} {phase:5} {rate:5} cps {calls:6} calls: ok {successful}, "
            f"failed {run['failed']}, retrans {stats.get('retransmissions')}, "
            f"proxy cpu {run['proxy_cpu_s']} s ({run['cpu_s_per_10k']} s/10k), "
            f"sipp cpu {uac_cpu}+{uas_cpu} s, other {run['other_cpu_s']} s, "
            f"achieved {achieved} cps")
        if run.get("failure_reasons"):
            log(f"  failures: {run['failure_reasons']}")
        return run

    # -- phases -------------------------------------------------------------------------

    def time_left(self, needed):
        return time.monotonic() + needed < self.deadline

    def idle(self, seconds=3):
        res = {}
        for name, proxy in self.proxies.items():
            c0 = proxy.cpu()
            time.sleep(seconds)
            res[name] = round((proxy.cpu() - c0) / seconds, 4)
        return res

    def cpu_phase(self):
        rate, calls = self.cfg["cpu_rate"], self.cfg["cpu_calls"]
        names = list(self.proxies)
        for rnd in range(self.cfg["rounds"]):
            order = names if rnd % 2 == 0 else names[::-1]
            for name in order:
                if not self.time_left(calls / rate + 15):
                    log("time budget exhausted: CPU phase cut short")
                    return
                self.run_load(self.proxies[name], "cpu", rate, calls)
                time.sleep(1)

    def step_phase(self):
        seconds = self.cfg["step_seconds"]
        names = list(self.proxies)
        active = set(names)
        for i, rate in enumerate(self.cfg["steps"]):
            order = names if i % 2 == 0 else names[::-1]
            for name in order:
                if name not in active:
                    continue
                if not self.time_left(seconds + 20):
                    log("time budget exhausted: rate search cut short")
                    return
                run = self.run_load(self.proxies[name], "step", rate, rate * seconds)
                if not run["clean"]:
                    active.discard(name)
                elif run["achieved_rate"] is not None and run["achieved_rate"] < 0.9 * rate:
                    run["generator_limited"] = True
                    active.discard(name)
                time.sleep(1)
            if not active:
                return

    def sustain_phase(self):
        """Each proxy's highest clean rate of the search again, for longer."""
        seconds = self.cfg["sustain_seconds"]
        for name, proxy in self.proxies.items():
            clean = [r["rate"] for r in self.runs if r["proxy"] == name
                     and r["phase"] == "step" and r["clean"] and not r.get("generator_limited")]
            if not clean:
                continue
            if not self.time_left(seconds + 20):
                log("time budget exhausted: sustain phase cut short")
                return
            self.run_load(proxy, "hold", max(clean), max(clean) * seconds)
            time.sleep(1)


def rusage_cpu(res):
    if res is None:
        return None
    ru = res[1]
    return round(ru.ru_utime + ru.ru_stime, 2)


def exit_code(res):
    if res is None:
        return None
    status = res[0]
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else None


# -- summary ----------------------------------------------------------------------------


def summarize(runs, names, steps):
    """Per proxy: CPU per 10k calls over the CPU phase, highest clean rate of the search."""
    summary = {}
    for name in names:
        cpu_runs = [r for r in runs if r["proxy"] == name and r["phase"] == "cpu"]
        calls = sum(r["calls"] for r in cpu_runs)
        cpu = sum(r["proxy_cpu_s"] for r in cpu_runs)
        sipp = sum((r["sipp_uac_cpu_s"] or 0) + (r["sipp_uas_cpu_s"] or 0) for r in cpu_runs)
        step_runs = [r for r in runs if r["proxy"] == name and r["phase"] == "step"]
        clean = [r["rate"] for r in step_runs if r["clean"] and not r.get("generator_limited")]
        first_bad = next((r for r in step_runs if not r["clean"]), None)
        limited = next((r for r in step_runs if r.get("generator_limited")), None)
        hold = next((r for r in runs if r["proxy"] == name and r["phase"] == "hold"), None)
        summary[name] = {
            "cpu_rate": cpu_runs[0]["rate"] if cpu_runs else None,
            "cpu_calls": calls,
            "cpu_failed": sum(r["failed"] for r in cpu_runs),
            "cpu_s_per_10k": round(cpu * 10000 / calls, 3) if calls else None,
            "cpu_s_per_10k_runs": [r["cpu_s_per_10k"] for r in cpu_runs],
            "sipp_cpu_s_per_10k": round(sipp * 10000 / calls, 3) if calls else None,
            "max_clean_rate": (max(clean) if clean else 0) if step_runs else None,
            "first_failed_rate": first_bad["rate"] if first_bad else None,
            "generator_limited_at": limited["rate"] if limited else None,
            "sustained": None if hold is None else {
                "rate": hold["rate"], "seconds": round(hold["calls"] / hold["rate"]),
                "calls": hold["calls"], "failed": hold["failed"], "clean": hold["clean"]},
            "search_exhausted": bool(step_runs) and first_bad is None and limited is None
            and len(step_runs) == len(steps),
        }
    return summary


def ratios(summary):
    sw, ka = summary.get("sipwarden"), summary.get("kamailio")
    if not sw or not ka:
        return {}
    res = {}
    if sw["cpu_s_per_10k"] and ka["cpu_s_per_10k"]:
        res["cpu_per_call"] = round(sw["cpu_s_per_10k"] / ka["cpu_s_per_10k"], 3)
    if ka["max_clean_rate"] and sw["max_clean_rate"] is not None:
        res["max_clean_rate"] = round(sw["max_clean_rate"] / ka["max_clean_rate"], 3)
    return res


def rate_text(s):
    if s["max_clean_rate"] is None:
        return "-"
    text = str(s["max_clean_rate"])
    if s["search_exhausted"] or s["generator_limited_at"]:
        text = ">=" + text
    return text


def report(runs, summary, rat, env):
    lines = []
    lines.append(f"machine: {env['cpus']} CPUs ({env['cpu_model']}), shared by the proxy "
                 "AND both sipp processes (sipp_s); other = CPU seconds the rest of the "
                 "machine used during the run")
    lines.append(f"sipwarden: {env['sipwarden_source']}; {env['kamailio']}")
    lines.append(f"load: INVITE-100-180-200-ACK-BYE-200, hold {HOLD_MS} ms, UDP, loopback; "
                 f"sipwarden workers={env['sipwarden_workers']}, kamailio "
                 f"-n {env['kamailio_children']} -m {env['kamailio_shm_mb']}; "
                 "CPU from /proc (utime+stime of all the proxy's processes and threads)")
    lines.append("")
    hdr = (f"{'proxy':11} {'phase':5} {'rate':>5} {'achvd':>6} {'calls':>6} {'failed':>6} "
           f"{'retr':>5} {'rt_ms':>7} {'cpu_s':>7} {'s/10k':>7} {'sipp_s':>7} {'other':>6}")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for r in runs:
        sipp = (r["sipp_uac_cpu_s"] or 0) + (r["sipp_uas_cpu_s"] or 0)
        flag = "" if r["clean"] else "  FAILED"
        if r.get("generator_limited"):
            flag += "  (sipp below rate)"
        rt = r.get("response_time_ms")
        lines.append(
            f"{r['proxy']:11} {r['phase']:5} {r['rate']:5} {str(r['achieved_rate']):>6} "
            f"{r['calls']:6} {r['failed']:6} {str(r.get('retransmissions')):>5} "
            f"{str(rt):>7} {r['proxy_cpu_s']:7.2f} {r['cpu_s_per_10k']:7.3f} {sipp:7.2f} "
            f"{fmt(r['other_cpu_s'], 6)}{flag}")
    lines.append("")
    hdr = (f"{'proxy':11} {'rate':>5} {'calls':>6} {'failed':>6} {'CPU s/10k calls':>16} "
           f"{'sipp s/10k':>11} {'max clean rate':>15} {'first failure':>14} "
           f"{'held for longer':>16}")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for name, s in summary.items():
        lines.append(f"{name:11} {str(s['cpu_rate']):>5} {s['cpu_calls']:6} "
                     f"{s['cpu_failed']:6} {str(s['cpu_s_per_10k']):>16} "
                     f"{str(s['sipp_cpu_s_per_10k']):>11} {rate_text(s):>15} "
                     f"{str(s['first_failed_rate']):>14} {hold_text(s['sustained']):>16}")
    if rat:
        lines.append("")
        cpu_r = rat.get("cpu_per_call")
        rate_r = rat.get("max_clean_rate")
        parts = []
        if cpu_r is not None:
            parts.append(f"CPU per call {cpu_r} (target <= 0.5: {verdict(cpu_r <= 0.5)})")
        if rate_r is not None:
            bound = ""
            if summary["kamailio"]["search_exhausted"] or summary["sipwarden"]["search_exhausted"]:
                bound = ", a search ended without a failure: a bound, not a ratio"
            parts.append(f"max clean rate {rate_r} (target > 1: {verdict(rate_r > 1)}{bound})")
        lines.append("ratio sipwarden/kamailio: " + ", ".join(parts))
    return "\n".join(lines)


def hold_text(hold):
    if hold is None:
        return "-"
    if hold["clean"]:
        return f"yes, {hold['seconds']} s"
    return f"NO: {hold['failed']} failed"


def fmt(value, width):
    return f"{value:{width}.2f}" if value is not None else f"{'-':>{width}}"


def verdict(ok):
    return "met" if ok else "NOT met"


def environment(args):
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def first_line(cmd):
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
        except OSError:
            return None
        text = (res.stdout + res.stderr).strip().splitlines()
        return text[0].strip() if text else None

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "cpu_model": model, "loadavg_start": os.getloadavg(),
        "kernel": os.uname().release,
        "kamailio": first_line(["kamailio", "-v"]),
        "sipp": next((ln for ln in (first_line(["sipp", "-v"]) or "").splitlines()), None),
        "sipwarden": first_line([args.sipwarden, "version"]),
        "sipwarden_binary": os.path.abspath(args.sipwarden),
        "sipwarden_source": os.environ.get("SW_BENCH_SOURCE", "?"),
        "repository_head": first_line(["git", "-C", HERE, "rev-parse", "HEAD"]),
        "quick": args.quick,
        "sipwarden_workers": args.sipwarden_workers,
        "kamailio_children": args.kamailio_children,
        "kamailio_shm_mb": args.kamailio_shm,
    }


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--sipwarden", required=True, help="the built sipwarden binary")
    p.add_argument("--out", help="output folder (default: /tmp/sipwarden-bench-calls/DATE)")
    p.add_argument("--quick", action="store_true", help="short runs (about 3 minutes)")
    p.add_argument("--cpu-rate", type=int, help="calls/s of the CPU phase")
    p.add_argument("--cpu-calls", type=int, help="calls per CPU run")
    p.add_argument("--rounds", type=int, help="CPU runs per proxy (alternating order)")
    p.add_argument("--steps", help="comma-separated rates of the search, e.g. 500,1000")
    p.add_argument("--step-seconds", type=int, help="seconds of load per step")
    p.add_argument("--sustain-seconds", type=int,
                   help="then each proxy's highest clean rate for this long (0 = skip)")
    p.add_argument("--proxies", default="sipwarden,kamailio",
                   help="which proxies to run, in order: sipwarden, kamailio, and "
                   "kamailio-sl (Kamailio as a bare stateless forward, for scale)")
    p.add_argument("--sipwarden-workers", type=int, default=2, help="sipwarden workers")
    p.add_argument("--kamailio-children", type=int, default=2, help="kamailio -n")
    p.add_argument("--kamailio-shm", type=int, default=1024,
                   help="kamailio -m: shared memory in MB (transactions, dialogs)")
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds after the callee's timewait before the CPU is read")
    p.add_argument("--max-minutes", type=float, default=15.0,
                   help="no run starts after this many minutes")
    p.add_argument("--skip-cpu", action="store_true", help="only the rate search")
    p.add_argument("--skip-steps", action="store_true", help="only the CPU phase")
    return p.parse_args(argv)


def build_config(args):
    cfg = dict(QUICK if args.quick else FULL)
    for key in ("cpu_rate", "cpu_calls", "rounds", "step_seconds", "sustain_seconds"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    if args.steps:
        cfg["steps"] = [int(x) for x in args.steps.split(",")]
    limits = {"cpu_rate": (1, 5000), "cpu_calls": (1, 100000), "rounds": (1, 10),
              "step_seconds": (1, 60), "sustain_seconds": (0, 300)}
    for key, (lo, hi) in limits.items():
        if not lo <= cfg[key] <= hi:
            raise SystemExit(f"--{key.replace('_', '-')} must be within {lo}..{hi}")
    if not cfg["steps"] or any(not 1 <= s <= 20000 for s in cfg["steps"]):
        raise SystemExit("--steps: rates within 1..20000")
    return cfg


def start_proxies(bench, args, names):
    for name in names:
        workdir = os.path.join(args.out, name)
        os.makedirs(workdir)
        if name == "sipwarden":
            proxy = Sipwarden(workdir, os.path.abspath(args.sipwarden), bench.uac_port,
                              bench.uas_port, args.sipwarden_workers)
        elif name == "kamailio":
            proxy = Kamailio(workdir, os.path.join(HERE, "kamailio.cfg"), bench.uas_port,
                             args.kamailio_children, args.kamailio_shm)
        elif name == "kamailio-sl":
            proxy = KamailioStateless(workdir, os.path.join(HERE, "kamailio.cfg"),
                                      bench.uas_port, args.kamailio_children, args.kamailio_shm)
        else:
            raise SystemExit(f"unknown proxy {name}")
        bench.proxies[name] = proxy
        proxy.start()
        log(f"{name} started on udp:{PROXY_IP}:{proxy.port}, pid {proxy.proc.pid}, "
            f"{len(proxy.pids())} process(es)")


def on_terminate(signum, frame):
    """SIGTERM (from timeout, say) unwinds like ^C, so that what was started is stopped."""
    del signum, frame
    raise KeyboardInterrupt


def main(argv):
    signal.signal(signal.SIGTERM, on_terminate)
    args = parse_args(argv)
    cfg = build_config(args)
    names = [n.strip() for n in args.proxies.split(",") if n.strip()]
    for tool in ("sipp", "kamailio", "kamcmd"):
        if shutil.which(tool) is None and (tool == "sipp" or any("kamailio" in n for n in names)):
            raise SystemExit(f"{tool} not found")
    if args.out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        args.out = os.path.join("/tmp/sipwarden-bench-calls", stamp)
    os.makedirs(os.path.join(args.out, "runs"), exist_ok=False)
    env = environment(args)
    log(f"output in {args.out}; {env['cpus']} CPUs shared by the proxies and sipp; "
        f"load average {env['loadavg_start']}")
    log(f"config: {json.dumps(cfg)}")
    bench = Bench(args, cfg)
    stopped = {}
    try:
        start_proxies(bench, args, names)
        time.sleep(1)
        env["idle_cpu_s_per_s"] = bench.idle()
        if not args.skip_cpu:
            bench.cpu_phase()
        if not args.skip_steps:
            bench.step_phase()
            if cfg["sustain_seconds"]:
                bench.sustain_phase()
    finally:
        bench.stop_sipps()
        for name, proxy in bench.proxies.items():
            stopped[name] = {"exit_code": proxy.stop(), "restarts": proxy.restarts}
            stopped[name].update(proxy.after_stop())
    env["proxy_stop"] = stopped
    summary = summarize(bench.runs, names, cfg["steps"])
    rat = ratios(summary)
    text = report(bench.runs, summary, rat, env)
    print("\n" + text, flush=True)
    with open(os.path.join(args.out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"environment": env, "config": cfg, "runs": bench.runs,
                   "summary": summary, "ratios": rat}, f, indent=2)
        f.write("\n")
    log(f"results in {os.path.join(args.out, 'results.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
