"""Helpers shared by the benchmarks that run sipwarden and Kamailio side by side under
sipp load (bench/calls, bench/ban): free ports, CPU accounting from /proc and the root
cgroup, child processes bounded in time and stopped by PID, the two proxies as
long-running processes, and sipp's statistics and error files.

Import it with the folder on sys.path:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import benchlib
"""

import datetime
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PBX_IP = "127.0.0.1"  # the PBX stand-in (a sipp UAS)
PROXY_IP = "127.0.0.1"
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


def logger(name):
    """A log(msg) function that prefixes [NAME HH:MM:SS] and flushes."""

    def log(msg):
        print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", flush=True)

    return log


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


def task_files(pids, name):
    """("tid", path) of /proc/<pid>/task/<tid>/NAME for every thread of the processes."""
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            yield tid, f"/proc/{pid}/task/{tid}/{name}"


def sched_seconds(pids):
    """Time on a CPU of the processes (every thread), in seconds with the scheduler's
    nanosecond precision (/proc/<pid>/task/<tid>/schedstat); None when the kernel does
    not keep it. utime + stime count whole clock ticks (10 ms): too coarse for runs that
    cost the proxy a fraction of a second."""
    total = 0
    for _, path in task_files(pids, "schedstat"):
        try:
            with open(path, encoding="ascii") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            continue
        except (OSError, ValueError, IndexError):
            return None
    return total / 1e9


def context_switches(pids):
    """Context switches of the processes so far, by "tid name" of every thread (voluntary
    and not): each is a sleep and a wake-up, the largest kernel cost of a proxy at
    moderate rates."""
    res = {}
    for tid, path in task_files(pids, "status"):
        try:
            with open(path, encoding="ascii") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        name = next((ln.split("\t", 1)[1] for ln in lines if ln.startswith("Name:")), "")
        res[f"{tid} {name}"] = sum(int(ln.split()[-1]) for ln in lines
                                   if ln.startswith(("voluntary_ctxt_switches:",
                                                     "nonvoluntary_ctxt_switches:")))
    return res


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

    def sched_cpu(self):
        return sched_seconds(self.pids())

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
    """sipwarden with the configuration `template` (str.format with `port`, `admin_port`,
    the PBX's `uas_ip` and every keyword of `values`), written to WORKDIR/sipwarden.conf."""

    name = "sipwarden"

    # Seconds the start may take (a run under valgrind sets more).
    start_timeout = 10

    def __init__(self, workdir, binary, template, **values):
        super().__init__(workdir)
        self.binary = binary
        self.wrapper = []  # a command that runs the binary (valgrind ...), or none
        self.admin_port = free_port()
        self.conf = os.path.join(workdir, "sipwarden.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(template.format(port=self.port, admin_port=self.admin_port, uas_ip=PBX_IP,
                                    **values))
        # The configuration may name secrets: sipwarden refuses files others can read.
        os.chmod(self.conf, 0o600)

    def command(self):
        return [*self.wrapper, self.binary, "run", "-c", self.conf]

    def pids(self):
        return [self.proc.pid] if self.alive() else []

    def breakdown(self):
        return task_cpu(self.proc.pid) if self.alive() else {}

    def wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
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


class Kamailio(Proxy):
    """Kamailio on the script `cfg`, which gets UAS_URI (where every call goes: the sipp
    UAS on UAS_IP, by default the PBX stand-in), ALLOW_FILE (a permissions address file:
    group 1 = `allow`, a list of IPv4 addresses, and the PBX) and CTL_SOCK (the ctl
    module's socket, for kamcmd) as -A defines."""

    name = "kamailio"

    def __init__(self, workdir, cfg, uas_port, children, shm_mb, allow, uas_ip=PBX_IP):
        super().__init__(workdir)
        self.shm_mb = shm_mb
        self.cfg = cfg
        self.uas_ip = uas_ip
        self.uas_port = uas_port
        self.children = children
        self.allow = os.path.join(workdir, "allow.list")
        self.ctl = os.path.join(workdir, "kamailio-ctl.sock")
        self.pidfile = os.path.join(workdir, "kamailio.pid")
        with open(self.allow, "w", encoding="utf-8") as f:
            f.write("# group address mask port\n")
            for ip in [*allow, PBX_IP]:
                f.write(f"1 {ip} 32 0\n")

    def command(self):
        return ["kamailio", "-f", self.cfg, "-DD", "-E", "-n", str(self.children),
                "-m", str(self.shm_mb), "-L", KAMAILIO_MODULES,
                "-l", f"udp:{PROXY_IP}:{self.port}", "-P", self.pidfile, "-w", self.workdir,
                "-A", f'UAS_URI="sip:{self.uas_ip}:{self.uas_port}"',
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


def on_terminate(signum, frame):
    """SIGTERM (from timeout, say) unwinds like ^C, so that what was started is stopped."""
    del signum, frame
    raise KeyboardInterrupt


def idle_cpu(proxies, seconds=3):
    """CPU seconds per second each proxy uses with no load, {name: s/s} (the scheduler's
    count where there is one: an idle proxy uses less than a clock tick)."""

    def used(proxy):
        sched = proxy.sched_cpu()
        return sched if sched is not None else proxy.cpu()

    res = {}
    for name, proxy in proxies.items():
        c0 = used(proxy)
        time.sleep(seconds)
        res[name] = round((used(proxy) - c0) / seconds, 5)
    return res


class Sipps:
    """The sipp processes of a benchmark: each in its own session, its command line and
    output in RUNDIR/OUT_NAME; stop_all() stops those still running, by PID."""

    def __init__(self):
        self.pids = []

    def spawn(self, cmd, rundir, out_name):
        with open(os.path.join(rundir, out_name), "w", encoding="utf-8") as out:
            out.write(" ".join(cmd) + "\n")
            out.flush()
            proc = subprocess.Popen(cmd, cwd=rundir, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.pids.append(proc.pid)
        return proc

    def stop_all(self):
        """Stops the sipp processes still running (after an interruption), by PID."""
        for pid in self.pids:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    stop_child(pid, 3)
            except ChildProcessError:
                pass
        self.pids = []


def first_line(cmd):
    """The first line a command prints (stdout, then stderr), or None."""
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    text = (res.stdout + res.stderr).strip().splitlines()
    return text[0].strip() if text else None


def environment(sipwarden):
    """The machine, the tools' versions and the measured sipwarden (SW_BENCH_SOURCE: what
    run.sh built it from)."""
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    here = os.path.dirname(os.path.abspath(__file__))
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "cpu_model": model, "loadavg_start": os.getloadavg(),
        "kernel": os.uname().release,
        "kamailio": first_line(["kamailio", "-v"]),
        "sipp": next((ln for ln in (first_line(["sipp", "-v"]) or "").splitlines()), None),
        "sipwarden": first_line([sipwarden, "version"]),
        "sipwarden_binary": os.path.abspath(sipwarden),
        "sipwarden_source": os.environ.get("SW_BENCH_SOURCE", "?"),
        "repository_head": first_line(["git", "-C", here, "rev-parse", "HEAD"]),
    }


def config_from(args, base, limits, rates_key, rates_arg, max_rate):
    """A copy of BASE with the values given on the command line (attributes of ARGS named
    like the keys of LIMITS; None = not given), each within its (lo, hi), and the list of
    rates RATES_KEY from the comma-separated RATES_ARG, each within 1..MAX_RATE."""
    cfg = dict(base)
    for key, (lo, hi) in limits.items():
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
        if not lo <= cfg[key] <= hi:
            raise SystemExit(f"--{key.replace('_', '-')} must be within {lo}..{hi}")
    if rates_arg:
        cfg[rates_key] = [int(x) for x in rates_arg.split(",")]
    if not cfg[rates_key] or any(not 1 <= r <= max_rate for r in cfg[rates_key]):
        raise SystemExit(f"--{rates_key}: rates within 1..{max_rate}")
    return cfg


def output_folder(out, name):
    """OUT, or /tmp/sipwarden-bench-NAME/<date>; created with its runs/ folder."""
    if out is None:
        out = os.path.join(f"/tmp/sipwarden-bench-{name}", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.join(out, "runs"), exist_ok=False)
    return out


def stop_proxies(proxies):
    """Stops every proxy; {name: exit code, restarts and what it reported at its stop}."""
    stopped = {}
    for name, proxy in proxies.items():
        stopped[name] = {"exit_code": proxy.stop(), "restarts": proxy.restarts}
        stopped[name].update(proxy.after_stop())
    return stopped


def write_results(out, text, results):
    """Prints the report TEXT, writes it to OUT/summary.txt and RESULTS to results.json;
    returns the path of results.json."""
    print("\n" + text, flush=True)
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    path = os.path.join(out, "results.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    return path


def add_common_args(parser, name, quick_help, shm_mb, settle_help, max_minutes):
    """The options every benchmark has: --sipwarden, --out, --quick, --kamailio-shm,
    --settle and --max-minutes (defaults SHM_MB and MAX_MINUTES)."""
    parser.add_argument("--sipwarden", required=True, help="the built sipwarden binary")
    parser.add_argument("--out", help=f"output folder (default: /tmp/sipwarden-bench-{name}/DATE)")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--kamailio-shm", type=int, default=shm_mb,
                        help="kamailio -m: shared memory in MB (transactions, dialogs)")
    parser.add_argument("--settle", type=float, default=2.0, help=settle_help)
    parser.add_argument("--max-minutes", type=float, default=max_minutes,
                        help="no run starts after this many minutes")


def run_benchmark(bench, env, start, phases, log):
    """The frame of a benchmark: announces the output folder and BENCH.cfg, starts the
    proxies (START()), records their idle CPU in ENV, runs the PHASES (functions) in
    order, and whatever happens (^C, SIGTERM by on_terminate, an error) stops the sipp
    processes still running and the proxies, by PID (ENV["proxy_stop"])."""
    log(f"output in {bench.out}; {env['cpus']} CPUs shared by the proxies and sipp; "
        f"load average {env['loadavg_start']}")
    log(f"config: {json.dumps(bench.cfg)}")
    try:
        start()
        time.sleep(1)
        env["idle_cpu_s_per_s"] = idle_cpu(bench.proxies)
        for phase in phases:
            phase()
    finally:
        bench.sipps.stop_all()
        env["proxy_stop"] = stop_proxies(bench.proxies)
