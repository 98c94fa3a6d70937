#!/usr/bin/env python3
"""bench/ban: access control under sipp load, sipwarden against Kamailio, one core each.

Both proxies run side by side for the whole benchmark with ONE worker (sipwarden
`workers = 1`, `kamailio -n 1`); the runs alternate between them (A B, B A, ...).

Phase 1 (drop): the address BANNED_IP is banned in each proxy (sipwarden: `sipwarden ban
add` over its control socket; Kamailio: kamcmd htable.seti ipban), then a send-only sipp
(flood.xml: one OPTIONS per "call", nothing awaited) sends PACKETS packets from it at each
of RATES packets/s. The proxy's CPU (utime + stime of all its processes and threads, from
/proc) is read before sipp starts and once the proxy has drained its socket; the packets
it handled are those sipp sent less those the kernel dropped at the proxy's socket (the
drops column of /proc/net/udp). Results: CPU seconds per 100,000 dropped packets and
packets dropped per CPU-second (the rate one core sustains). Nothing may be answered
(sipp counts replies as dead-call or out-of-call messages) or forwarded (a UDP counter
listens on the PBX's port).

The ban is dropped in a different place by each proxy (--proxies picks them):
  sipwarden  [ban] kernel_drop = yes (the default): a BPF socket filter on the gateway's
             socket drops the packet before it is queued; no worker wakes up;
  sw-gate    kernel_drop = no: the gate, in the worker, before parsing (issue #3's path);
  sw-nft     kernel_drop = no and [ban] nft_set: the ban also goes into an nftables set
             that a rule of this benchmark's own table (inet sipwarden_bench, removed at
             the end) drops at the input hook, for the proxy's port only;
  sw-epoll   as sipwarden, its worker waiting in epoll ([general] io_uring = no): the
             io_uring's figure before and after, in one run (issue #13; not by default);
  kamailio   the htable ban list, first thing in request_route.
The socket filter runs in the receive softirq, charged to no process of the proxy: with
BPF statistics enabled for the benchmark (a BPF_ENABLE_STATS descriptor held while it
runs), sipwarden reports the filter's own run time, added to its CPU ("kernel incl.").
The nftables rule's cost is not measured (it is not charged to the proxy either).

Phase 2 (register): a sipp phone on PHONE_IP registers USERS distinct users in turn (a
users CSV, SEQUENTIAL), each REGISTER -> 401 -> REGISTER with MD5 digest credentials ->
200, at RATE registrations/s; a sipp UAS on the PBX's address answers 200 to every
REGISTER relayed to it. The proxy's CPU per 10,000 registrations; every registration
must succeed and reach the PBX.

Phase 3 (underflood): the register load of phase 2 while the banned source floods each
proxy at FLOOD_RATE packets/s: the registrations that succeed, their rate, and the
proxy's CPU per 10,000 registrations with the flood on.

Everything is bounded: every sipp has -timeout and is killed past a deadline; the whole
benchmark starts no run after --max-minutes. Only processes started here are stopped, by
their PID. Results: tables on stdout, results.json and summary.txt in the output folder.
"""

import argparse
import ctypes
import hashlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
# pylint: disable-next=wrong-import-position
from benchlib import (PBX_IP, PROXY_IP, Kamailio, Sipps, Sipwarden, add_common_args, config_from,
                      delta, environment, exit_code, failure_reasons, free_port, logger,
                      machine_cpu_seconds, on_terminate, output_folder, parse_sipp_csv,
                      run_benchmark, rusage_cpu, stop_child, wait_pid, write_results)

log = logger("bench/ban")

PHONE_IP = "127.0.0.3"  # the phones that register
BANNED_IP = "127.0.0.77"  # the banned source
REALM = "sipwarden"
PBX_REGISTRAR = os.path.join(ROOT, "tests", "it", "remote_account", "pbx-registrar.xml")

FULL = {"rates": [20000, 50000, 100000], "packets": 200000, "reg_rate": 200, "registrations": 10000,
        "users": 100, "rounds": 3, "flood_rate": 50000}
QUICK = {"rates": [20000, 100000], "packets": 100000, "reg_rate": 200, "registrations": 3000,
         "users": 100, "rounds": 1, "flood_rate": 50000}
PROXIES = ["sipwarden", "sw-gate", "sw-nft", "sw-epoll", "kamailio"]
DEFAULT_PROXIES = ["sipwarden", "sw-gate", "sw-nft", "kamailio"]
NFT_TABLE = "sipwarden_bench"
KDROP_BANNED = 'sipwarden_kernel_drops_total{reason="banned"}'
GATE_BANNED = 'sipwarden_gate_packets_total{result="banned"}'
FILTER_NS = "sipwarden_kernel_filter_run_nanoseconds_total"
FILTER_RUNS = "sipwarden_kernel_filter_runs_total"

# Every check sipwarden has is on (they are on by default). The limits that would stop
# the load generator, one phone address registering 100 users hundreds of times a second,
# are raised, as pike's is for Kamailio: the request rates, and the scanner's count of
# distinct user names per source (svwar-like enumeration: 100 users from one address).
# Both proxies permit the phones' and the banned address (ACL / permissions), so that
# it is the ban, and not the ACL, that drops the flood. MD5 only: sipp's digest.
SIPWARDEN_CONF = """; bench/ban: generated by bench_ban.py
[general]
listen = udp:127.0.0.1:{port}
workers = 1
io_uring = {io_uring}
log_level = notice
control_socket = {control_socket}
[pbx]
address = udp:{uas_ip}:{uas_port}
[acl]
permit = {phone_ip}/32, {banned_ip}/32
[auth]
realm = {realm}
algorithms = MD5
[ratelimit]
register_rate = 10000
register_burst = 20000
invite_rate = 10000
invite_burst = 20000
options_rate = 10000
options_burst = 20000
other_rate = 10000
other_burst = 20000
global_rate = 1000000
[scanner]
enabled = yes
max_distinct_users = 100000
[admin]
listen = 127.0.0.1:{admin_port}
[ban]
{ban}
{accounts}"""


def user_name(i):
    return str(1000 + i)


def user_password(i):
    return f"bench-{user_name(i)}-Pw7q"


def user_ha1(i):
    text = f"{user_name(i)}:{REALM}:{user_password(i)}"
    return hashlib.md5(text.encode()).hexdigest()


def sipwarden_accounts(users):
    return "".join(f"[{user_name(i)}]\ntype = account\nha1 = {user_ha1(i)}\nmax_calls = 2\n"
                   for i in range(users))


def write_users_csv(path, users):
    """sipp's -inf file: user name; the whole [authentication] keyword (see register.xml)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("SEQUENTIAL\n")
        for i in range(users):
            f.write(f"{user_name(i)};[authentication username={user_name(i)} "
                    f"password={user_password(i)}]\n")


class BanSipwarden(Sipwarden):
    """sipwarden with its accounts; bans over its control socket. NAME picks where the
    ban drops (see the module's docstring)."""

    def __init__(self, name, workdir, binary, uas_port, users):
        self.name = name
        self.ctl = os.path.join(workdir, "sipwarden.ctl")
        ban = {"sipwarden": "kernel_drop = yes", "sw-gate": "kernel_drop = no",
               "sw-nft": f"kernel_drop = no\nnft_set = inet {NFT_TABLE} banned",
               "sw-epoll": "kernel_drop = yes"}[name]
        super().__init__(workdir, binary, SIPWARDEN_CONF, uas_port=uas_port,
                         control_socket=self.ctl, phone_ip=PHONE_IP, banned_ip=BANNED_IP,
                         realm=REALM, ban=ban, accounts=sipwarden_accounts(users),
                         io_uring="no" if name == "sw-epoll" else "yes")
        if name == "sw-nft":
            nft_table_create(self.port)

    def wait_ready(self):
        super().wait_ready()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if self.name == "sipwarden" and "kernel drop on" not in text:
            raise RuntimeError(f"sipwarden: the kernel drop is not on (see {self.log_path})")

    def ban(self, ip):
        cmd = [self.binary, "ban", "add", ip, "--time", "forever", "--socket", self.ctl]
        subprocess.run(cmd, check=True, capture_output=True, timeout=10)
        if self.name == "sw-nft" and not nft_set_has(ip):
            return False
        listed = subprocess.run([self.binary, "ban", "list", "--socket", self.ctl],
                                capture_output=True, text=True, timeout=10, check=True)
        return any(line.split()[:1] == [ip] for line in listed.stdout.splitlines())


class BanKamailio(Kamailio):
    """Kamailio of bench/ban/kamailio.cfg; bans and users go into its htables by kamcmd."""

    def __init__(self, workdir, uas_port, shm_mb, users):
        super().__init__(workdir, os.path.join(HERE, "kamailio.cfg"), uas_port, 1, shm_mb,
                         allow=[PHONE_IP, BANNED_IP])
        self.users = users

    def start(self):
        super().start()
        # s: keeps kamcmd from taking the numeric user names for integers.
        for i in range(self.users):
            self.kamcmd("htable.sets", "users", f"s:{user_name(i)}", user_ha1(i))
        got = self.kamcmd("htable.get", "users", f"s:{user_name(self.users - 1)}")
        if user_ha1(self.users - 1) not in got:
            raise RuntimeError(f"kamailio: the users were not loaded ({got.strip()})")

    def ban(self, ip):
        self.kamcmd("htable.seti", "ipban", ip, "1")
        return "value" in self.kamcmd("htable.get", "ipban", ip)


def nft_table_create(port):
    """The nftables table of the sw-nft proxy: its sets, and a rule dropping their
    addresses towards PORT only (other traffic of the machine is not touched)."""
    rules = (f"table inet {NFT_TABLE} {{\n"
             "  set banned { type ipv4_addr; flags timeout; }\n"
             "  set banned6 { type ipv6_addr; flags timeout; }\n"
             "  chain ban_input {\n"
             "    type filter hook input priority filter - 20; policy accept;\n"
             f"    ip saddr @banned udp dport {port} drop\n"
             f"    ip6 saddr @banned6 udp dport {port} drop\n"
             "  }\n}\n")
    nft_table_delete()
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True, timeout=10)


def nft_table_delete():
    subprocess.run(["nft", "delete", "table", "inet", NFT_TABLE], capture_output=True,
                   timeout=10, check=False)


def nft_set_has(ip):
    """True once sipwarden's ban action has put IP in the set (it runs nft on its own
    thread): waits up to 5 s."""
    for _ in range(50):
        out = subprocess.run(["nft", "list", "set", "inet", NFT_TABLE, "banned"],
                             capture_output=True, text=True, timeout=10, check=False).stdout
        if ip in out:
            return True
        time.sleep(0.1)
    return False


def enable_bpf_stats():
    """A BPF_ENABLE_STATS descriptor: while it is open the kernel times every BPF program
    (sipwarden reports its filter's time). None where refused."""
    try:
        lib = ctypes.CDLL("libbpf.so.1")
        fd = lib.bpf_enable_stats(0)  # BPF_STATS_RUN_TIME
    except OSError:
        return None
    return fd if fd >= 0 else None


def softirq_seconds():
    """Seconds the machine spent in softirq (every CPU), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = f.readline().split()
    return int(fields[7]) / os.sysconf("SC_CLK_TCK")


def udp_drops(port):
    """Datagrams the kernel dropped at the UDP sockets bound to 127.0.0.1:PORT (full
    receive buffer), from the drops column of /proc/net/udp."""
    want = f"0100007F:{port:04X}"
    total = 0
    with open("/proc/net/udp", encoding="ascii") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] == want:
                total += int(fields[-1])
    return total


class Counter:
    """A UDP socket on the PBX's address that counts what reaches it (nothing should)."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((PBX_IP, port))
        self.sock.settimeout(0.2)
        self.count = 0
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            try:
                self.sock.recv(65535)
                self.count += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()
        return self.count


def probe(proxy_port, src_ip, wait_s):
    """Sends one OPTIONS from SRC_IP; True when anything answers within WAIT_S."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src_ip, 0))
        port = s.getsockname()[1]
        tag = f"probe{time.monotonic_ns()}"
        msg = (f"OPTIONS sip:100@{PROXY_IP}:{proxy_port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {src_ip}:{port};branch=z9hG4bK{tag};rport\r\n"
               f"From: <sip:probe@{src_ip}>;tag={tag}\r\nTo: <sip:100@{PROXY_IP}>\r\n"
               f"Call-ID: {tag}@{src_ip}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
               "User-Agent: bench-ban\r\nContent-Length: 0\r\n\r\n")
        s.sendto(msg.encode(), (PROXY_IP, proxy_port))
        s.settimeout(wait_s)
        try:
            s.recv(65535)
            return True
        except socket.timeout:
            return False
    finally:
        s.close()


class Bench:
    def __init__(self, args, cfg):
        self.args = args
        self.cfg = cfg
        self.out = args.out
        self.flood_port = free_port()
        self.phone_port = free_port()
        self.uas_port = free_port()
        self.users_csv = os.path.join(args.out, "users.csv")
        write_users_csv(self.users_csv, cfg["users"])
        self.deadline = time.monotonic() + args.max_minutes * 60
        self.runs = []
        self.proxies = {}
        self.sipps = Sipps()

    def time_left(self, needed):
        return time.monotonic() + needed < self.deadline

    def rundir(self, phase, proxy, rate):
        path = os.path.join(self.out, "runs",
                            f"{len(self.runs) + 1:02d}-{phase}-{proxy.name}-{rate}")
        os.makedirs(path)
        return path

    def restart_if_dead(self, proxy):
        if proxy.alive():
            return
        log(f"{proxy.name} is not running: restarting it and banning {BANNED_IP} again")
        proxy.restarts += 1
        proxy.start()
        proxy.ban(BANNED_IP)

    def measure(self, proxy):
        """What is read before and after a run."""
        return {"cpu": proxy.cpu(), "sched": proxy.sched_cpu(), "t": time.monotonic(),
                "machine": machine_cpu_seconds(), "softirq": softirq_seconds(),
                "drops": udp_drops(proxy.port), "tasks": proxy.breakdown()}

    def common(self, proxy, before, after, sipp_cpu):
        # The scheduler's nanoseconds where the kernel keeps them, else clock ticks.
        ticks = after["cpu"] - before["cpu"]
        cpu = ticks
        if before["sched"] is not None and after["sched"] is not None:
            cpu = after["sched"] - before["sched"]
        machine = None
        if before["machine"] is not None and after["machine"] is not None:
            machine = after["machine"] - before["machine"]
        return {
            "proxy_cpu_s": round(cpu, 4), "proxy_cpu_ticks_s": round(ticks, 2),
            "sipp_cpu_s": sipp_cpu,
            "other_cpu_s": None if machine is None else round(machine - cpu - sipp_cpu, 2),
            "wall_s": round(after["t"] - before["t"], 2),
            "socket_drops": after["drops"] - before["drops"],
            "softirq_s": round(after["softirq"] - before["softirq"], 2),
            "cpu_by_task": delta(after["tasks"], before["tasks"]),
            "proxy_alive_after": proxy.alive(),
        }

    # -- phase 1: packets from a banned source ---------------------------------------------

    def run_flood(self, proxy, rate, packets):
        self.restart_if_dead(proxy)
        rundir = self.rundir("drop", proxy, rate)
        timeout_s = int(packets / rate + 20)
        counter = Counter(self.uas_port)
        proxy.before_run()
        before = self.measure(proxy)
        cmd = ["sipp", f"{PROXY_IP}:{proxy.port}", "-sf", os.path.join(HERE, "flood.xml"),
               "-i", BANNED_IP, "-p", str(self.flood_port), "-m", str(packets),
               "-r", str(rate), "-nostdin", "-timeout", f"{timeout_s}s",
               "-trace_stat", "-stf", "flood.csv", "-fd", "1"]
        sipp = self.sipps.spawn(cmd, rundir, "flood.out")
        res = wait_pid(sipp.pid, time.monotonic() + timeout_s + 10)
        if res is None:
            log("sipp past its deadline: stopping it")
            res = stop_child(sipp.pid, 3)
        sent_at = time.monotonic()
        # The proxy drains what is queued at its socket; its answers, if any, arrive.
        time.sleep(self.args.settle)
        after = self.measure(proxy)
        forwarded = counter.close()
        stats = parse_sipp_csv(os.path.join(rundir, "flood.csv"), packets)
        sent = stats.get("created", 0)
        run = {"phase": "drop", "proxy": proxy.name, "rate": rate, "packets": packets,
               "sipp_rc": exit_code(res), "sent": sent,
               "achieved_rate": round(sent / max(sent_at - before["t"], 1e-3)),
               "replies": stats.get("dead_call_msgs", 0) + stats.get("out_of_call_msgs", 0),
               "forwarded_to_pbx": forwarded, "dir": os.path.relpath(rundir, self.out)}
        run.update(self.common(proxy, before, after, rusage_cpu(res) or 0.0))
        run.update(proxy.after_run() if proxy.alive() else {})
        # The socket's drops column also counts what a socket filter dropped: those were
        # handled (by the filter), not lost to a full buffer.
        run["socket_drops"] -= run.get("metrics", {}).get(KDROP_BANNED, 0)
        handled = sent - run["socket_drops"]
        run["handled"] = handled
        run["cpu_s_per_100k"] = round(run["proxy_cpu_s"] * 100000 / handled, 4) if handled else None
        run["drops_per_cpu_s"] = round(handled / run["proxy_cpu_s"]) if run["proxy_cpu_s"] else None
        self.kernel_share(proxy, run, handled)
        run["clean"] = (run["sipp_rc"] == 0 and sent == packets and run["replies"] == 0
                        and forwarded == 0 and run["proxy_alive_after"] and run["where_ok"])
        self.runs.append(run)
        log(f"{proxy.name:9} drop {rate:6}/s: sent {sent} ({run['achieved_rate']}/s), kernel "
            f"dropped {run['socket_drops']}, replies {run['replies']}, to PBX {forwarded}, "
            f"proxy cpu {run['proxy_cpu_s']} s ({run['cpu_s_per_100k']} s/100k, "
            f"{run['drops_per_cpu_s']}/cpu-s), kernel incl. {run['kernel_incl_s_per_100k']} "
            f"s/100k, gate {run['gate_banned']}, filter {run['kernel_dropped']}, sipp cpu "
            f"{run['sipp_cpu_s']} s, other {run['other_cpu_s']} s")
        return run

    @staticmethod
    def kernel_share(proxy, run, handled):
        """Where the packets were dropped, and the CPU per 100k with the socket filter's own
        time added (kernel incl.). Every handled packet must have been dropped where the
        proxy drops: by the filter (sipwarden: the gate sees none), by the gate (sw-gate),
        before the socket (sw-nft: neither sees any)."""
        m = run.get("metrics", {})
        gate, kdrop = m.get(GATE_BANNED, 0), m.get(KDROP_BANNED, 0)
        filter_ns = m.get(FILTER_NS, 0)
        run["gate_banned"], run["kernel_dropped"] = gate, kdrop
        run["filter_ns_per_packet"] = (round(filter_ns / m[FILTER_RUNS], 1)
                                       if m.get(FILTER_RUNS) else None)
        incl = run["proxy_cpu_s"] + filter_ns / 1e9
        run["kernel_incl_s_per_100k"] = round(incl * 100000 / handled, 4) if handled else None
        expected = {"sipwarden": (0, handled), "sw-gate": (handled, 0), "sw-nft": (0, 0),
                    "sw-epoll": (0, handled)}
        run["where_ok"] = expected.get(proxy.name, (gate, kdrop)) == (gate, kdrop)

    def drop_phase(self):
        names = list(self.proxies)
        packets = self.cfg["packets"]
        for rnd in range(self.cfg["rounds"]):
            for i, rate in enumerate(self.cfg["rates"]):
                order = names if (rnd + i) % 2 == 0 else names[::-1]
                for name in order:
                    if not self.time_left(packets / rate + 20):
                        log("time budget exhausted: drop phase cut short")
                        return
                    self.run_flood(self.proxies[name], rate, packets)
                    time.sleep(0.5)

    # -- phase 2: digest REGISTER --------------------------------------------------------

    def start_flood(self, proxy, rundir, duration_s):
        """A banned flood at FLOOD_RATE for DURATION_S towards PROXY, in the background."""
        rate = self.cfg["flood_rate"]
        cmd = ["sipp", f"{PROXY_IP}:{proxy.port}", "-sf", os.path.join(HERE, "flood.xml"),
               "-i", BANNED_IP, "-p", str(self.flood_port), "-m", str(int(rate * duration_s)),
               "-r", str(rate), "-nostdin", "-timeout", f"{int(duration_s) + 20}s",
               "-trace_stat", "-stf", "flood.csv", "-fd", "1"]
        return self.sipps.spawn(cmd, rundir, "flood.out")

    def run_register(self, proxy, rate, count, flood=False):
        self.restart_if_dead(proxy)
        phase = "underflood" if flood else "register"
        rundir = self.rundir(phase, proxy, rate)
        timeout_s = int(count / rate + 30)
        uas = self.sipps.spawn(["sipp", "-sf", PBX_REGISTRAR, "-i", PBX_IP,
                                "-p", str(self.uas_port), "-m", str(count), "-nostdin",
                                "-timeout", f"{timeout_s + 10}s", "-trace_err",
                                "-error_file", "pbx.err", "-trace_stat", "-stf", "pbx.csv",
                                "-fd", "1"], rundir, "pbx.out")
        time.sleep(0.3)
        proxy.before_run()
        before = self.measure(proxy)
        flooder = self.start_flood(proxy, rundir, count / rate + 2) if flood else None
        cmd = ["sipp", f"{PROXY_IP}:{proxy.port}", "-sf", os.path.join(HERE, "register.xml"),
               "-inf", self.users_csv, "-i", PHONE_IP, "-p", str(self.phone_port),
               "-m", str(count), "-r", str(rate), "-nostdin", "-timeout", f"{timeout_s}s",
               "-timeout_error", "-recv_timeout", "10000", "-trace_err", "-error_file",
               "phone.err", "-trace_stat", "-stf", "phone.csv", "-fd", "1"]
        phone = self.sipps.spawn(cmd, rundir, "phone.out")
        phone_res = wait_pid(phone.pid, time.monotonic() + timeout_s + 10)
        if phone_res is None:
            log("sipp phone past its deadline: stopping it")
            phone_res = stop_child(phone.pid, 3)
        reg_wall = time.monotonic() - before["t"]
        uas_res = wait_pid(uas.pid, time.monotonic() + 5)
        if uas_res is None:
            uas_res = stop_child(uas.pid, 3)
        flood_res = None
        if flooder is not None:
            flood_res = wait_pid(flooder.pid, time.monotonic() + 30)
            if flood_res is None:
                flood_res = stop_child(flooder.pid, 3)
        time.sleep(self.args.settle)
        after = self.measure(proxy)
        stats = parse_sipp_csv(os.path.join(rundir, "phone.csv"), count)
        pbx = parse_sipp_csv(os.path.join(rundir, "pbx.csv"), count)
        ok = stats.get("successful", 0)
        run = {"phase": phase, "proxy": proxy.name, "rate": rate, "registrations": count,
               "users": self.cfg["users"], "phone_rc": exit_code(phone_res),
               "pbx_rc": exit_code(uas_res), "successful": ok, "failed": count - ok,
               "retransmissions": stats.get("retransmissions"),
               "response_time_ms": stats.get("response_time_ms"),
               "pbx_registrations": pbx.get("successful", 0),
               "dir": os.path.relpath(rundir, self.out)}
        run["achieved_reg_rate"] = round(ok / max(reg_wall, 1e-3), 1)
        if flooder is not None:
            fstats = parse_sipp_csv(os.path.join(rundir, "flood.csv"), 0)
            run["flood_sent"] = fstats.get("created", 0)
            run["flood_rate"] = self.cfg["flood_rate"]
        sipp_cpu = ((rusage_cpu(phone_res) or 0.0) + (rusage_cpu(uas_res) or 0.0)
                    + (rusage_cpu(flood_res) or 0.0))
        run.update(self.common(proxy, before, after, round(sipp_cpu, 2)))
        run["cpu_s_per_10k"] = round(run["proxy_cpu_s"] * 10000 / count, 3)
        if run["failed"]:
            run["failure_reasons"] = failure_reasons(os.path.join(rundir, "phone.err"))
        run.update(proxy.after_run() if proxy.alive() else {})
        run["clean"] = (run["phone_rc"] == 0 and run["failed"] == 0
                        and run["pbx_registrations"] == count and run["proxy_alive_after"])
        self.runs.append(run)
        log(f"{proxy.name:9} register {rate}/s: ok {ok}, failed {run['failed']}, at the PBX "
            f"{run['pbx_registrations']}, retrans {run['retransmissions']}, proxy cpu "
            f"{run['proxy_cpu_s']} s ({run['cpu_s_per_10k']} s/10k), sipp cpu {sipp_cpu:.2f} s, "
            f"other {run['other_cpu_s']} s")
        if run.get("failure_reasons"):
            log(f"  failures: {run['failure_reasons']}")
        return run

    def register_phase(self, flood=False):
        names = list(self.proxies)
        rate, count = self.cfg["reg_rate"], self.cfg["registrations"]
        for rnd in range(self.cfg["rounds"]):
            order = names if rnd % 2 == 0 else names[::-1]
            for name in order:
                if not self.time_left(count / rate + 20):
                    log("time budget exhausted: register phase cut short")
                    return
                self.run_register(self.proxies[name], rate, count, flood)
                time.sleep(1)

    def underflood_phase(self):
        self.register_phase(flood=True)


# -- summary ----------------------------------------------------------------------------


def spread(values):
    """Median, min and max of the values that are not None; None when there is none."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": round(statistics.median(vals), 4), "min": min(vals), "max": max(vals),
            "runs": len(vals)}


def summarize(runs, names, cfg):
    summary = {"drop": {}, "register": {}, "underflood": {}}
    for name in names:
        for rate in cfg["rates"]:
            rr = [r for r in runs if r["phase"] == "drop" and r["proxy"] == name
                  and r["rate"] == rate]
            if not rr:
                continue
            handled = sum(r["handled"] for r in rr)
            summary["drop"][f"{name}@{rate}"] = {
                "proxy": name, "rate": rate, "runs": len(rr),
                "sent": sum(r["sent"] for r in rr), "handled": handled,
                "socket_drops": sum(r["socket_drops"] for r in rr),
                "replies": sum(r["replies"] for r in rr),
                "forwarded_to_pbx": sum(r["forwarded_to_pbx"] for r in rr),
                "cpu_s_per_100k": spread([r["cpu_s_per_100k"] for r in rr]),
                "kernel_incl_s_per_100k": spread([r["kernel_incl_s_per_100k"] for r in rr]),
                "filter_ns_per_packet": spread([r["filter_ns_per_packet"] for r in rr]),
                "drops_per_cpu_s": spread([r["drops_per_cpu_s"] for r in rr]),
                "sipp_cpu_s_per_100k": round(sum(r["sipp_cpu_s"] for r in rr) * 100000
                                             / max(1, sum(r["sent"] for r in rr)), 3),
                "achieved_rate": spread([r["achieved_rate"] for r in rr]),
                "clean": all(r["clean"] for r in rr),
            }
        for phase in ("register", "underflood"):
            rr = [r for r in runs if r["phase"] == phase and r["proxy"] == name]
            if rr:
                summary[phase][name] = summarize_register(name, rr)
    return summary


def summarize_register(name, rr):
    count = sum(r["registrations"] for r in rr)
    return {
        "proxy": name, "rate": rr[0]["rate"], "runs": len(rr), "registrations": count,
        "failed": sum(r["failed"] for r in rr),
        "pbx_registrations": sum(r["pbx_registrations"] for r in rr),
        "cpu_s_per_10k": spread([r["cpu_s_per_10k"] for r in rr]),
        "achieved_reg_rate": spread([r["achieved_reg_rate"] for r in rr]),
        "flood_sent": sum(r.get("flood_sent", 0) for r in rr),
        "sipp_cpu_s_per_10k": round(sum(r["sipp_cpu_s"] for r in rr) * 10000 / count, 3),
        "clean": all(r["clean"] for r in rr),
    }


def ratios(summary, cfg):
    """Each sipwarden variant / kamailio, of the medians: CPU per dropped packet (per rate;
    kernel incl.: the socket filter's own time added), CPU per registration without and
    with the flood. Below 1: sipwarden spends less."""
    res = {}
    variants = {s["proxy"] for s in summary["drop"].values()} | set(summary["register"])
    variants |= set(summary["underflood"])
    variants.discard("kamailio")
    for name in sorted(variants):
        for rate in cfg["rates"]:
            sw = summary["drop"].get(f"{name}@{rate}")
            ka = summary["drop"].get(f"kamailio@{rate}")
            if sw and ka and sw["kernel_incl_s_per_100k"] and ka["cpu_s_per_100k"]:
                res[f"{name}:drop_cpu_per_packet@{rate}"] = round(
                    sw["kernel_incl_s_per_100k"]["median"] / ka["cpu_s_per_100k"]["median"], 3)
        for phase in ("register", "underflood"):
            sw, ka = summary[phase].get(name), summary[phase].get("kamailio")
            if sw and ka and sw["cpu_s_per_10k"] and ka["cpu_s_per_10k"]:
                res[f"{name}:{phase}_cpu"] = round(sw["cpu_s_per_10k"]["median"]
                                                   / ka["cpu_s_per_10k"]["median"], 3)
    return res


def spread_text(s, digits=3):
    if s is None:
        return "-"
    if s["runs"] == 1:
        return f"{s['median']:.{digits}f}"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def run_lines(runs):
    lines = [f"{'proxy':10} {'phase':8} {'rate':>6} {'sent':>7} {'kdrop':>6} {'handled':>7} "
             f"{'replies':>7} {'to_pbx':>6} {'failed':>6} {'cpu_s':>7} {'per-unit':>9} "
             f"{'sipp_s':>6} {'other':>6}"]
    lines.append("-" * len(lines[0]))
    for r in runs:
        if r["phase"] == "drop":
            unit = f"{r['kernel_incl_s_per_100k']}"
            cols = (f"{r['sent']:7} {r['socket_drops']:6} {r['handled']:7} {r['replies']:7} "
                    f"{r['forwarded_to_pbx']:6} {'-':>6}")
        else:
            unit = f"{r['cpu_s_per_10k']}"
            cols = (f"{r['registrations']:7} {r['socket_drops']:6} {r['successful']:7} "
                    f"{'-':>7} {r['pbx_registrations']:6} {r['failed']:6}")
        other = "-" if r["other_cpu_s"] is None else f"{r['other_cpu_s']:.2f}"
        flag = "" if r["clean"] else "  NOT CLEAN"
        lines.append(f"{r['proxy']:10} {r['phase']:8} {r['rate']:6} {cols} "
                     f"{r['proxy_cpu_s']:7.3f} {unit:>9} {r['sipp_cpu_s']:6.2f} {other:>6}{flag}")
    return lines


def report(runs, summary, rat, env, cfg):
    lines = [
        f"machine: {env['cpus']} CPUs ({env['cpu_model']}), shared by the proxy AND sipp "
        "(sipp_s); other = CPU seconds the rest of the machine used during the run",
        f"sipwarden: {env['sipwarden_source']}; {env['kamailio']}",
        "one worker each: sipwarden workers = 1, kamailio -n 1; CPU from /proc (utime+stime "
        "of all the proxy's processes and threads)",
        f"drop: {cfg['packets']} OPTIONS per run from the banned {BANNED_IP}, sent without "
        "waiting (kdrop = dropped by the kernel at the proxy's full socket, not handled)",
        f"register: {cfg['registrations']} REGISTER-401-REGISTER-200 per run from {PHONE_IP}, "
        f"{cfg['users']} users in turn, MD5 digest qop=auth, relayed to the PBX stand-in",
        "per-unit: CPU s per 100,000 handled packets (drop; kernel incl.: with the socket "
        "filter's own time), per 10,000 registrations (register, underflood)",
        "sipwarden = kernel drop (BPF socket filter), sw-gate = the gate in user space, "
        "sw-nft = an nftables set at the input hook", ""]
    lines += run_lines(runs)
    lines += ["", "Banned-source drops (median over the runs, min-max in brackets):"]
    hdr = (f"{'proxy':10} {'rate/s':>7} {'runs':>4} {'CPU s/100k (process)':>26} "
           f"{'kernel incl.':>26} {'filter ns/pkt':>13} {'sipp s/100k':>11} {'replies':>7} "
           f"{'to PBX':>6}")
    lines += [hdr, "-" * len(hdr)]
    for s in summary["drop"].values():
        lines.append(f"{s['proxy']:10} {s['rate']:7} {s['runs']:4} "
                     f"{spread_text(s['cpu_s_per_100k']):>26} "
                     f"{spread_text(s['kernel_incl_s_per_100k']):>26} "
                     f"{spread_text(s['filter_ns_per_packet'], 0):>13} "
                     f"{s['sipp_cpu_s_per_100k']:11.3f} {s['replies']:7} "
                     f"{s['forwarded_to_pbx']:6}")
    titles = {"register": "Digest REGISTER (challenge + response + relay to the PBX):",
              "underflood": f"The same REGISTER load under a banned flood of {cfg['flood_rate']} "
                            "packets/s:"}
    for phase, title in titles.items():
        lines += ["", title]
        hdr = (f"{'proxy':10} {'rate/s':>7} {'runs':>4} {'registrations':>13} {'failed':>6} "
               f"{'at PBX':>7} {'achieved/s':>18} {'CPU s/10k registrations':>26} "
               f"{'sipp s/10k':>10}")
        lines += [hdr, "-" * len(hdr)]
        for s in summary[phase].values():
            lines.append(f"{s['proxy']:10} {s['rate']:7} {s['runs']:4} {s['registrations']:13} "
                         f"{s['failed']:6} {s['pbx_registrations']:7} "
                         f"{spread_text(s['achieved_reg_rate'], 1):>18} "
                         f"{spread_text(s['cpu_s_per_10k']):>26} {s['sipp_cpu_s_per_10k']:10.3f}")
    if rat:
        lines += ["", "ratio sipwarden/kamailio (CPU, medians; < 1 = sipwarden spends less): "
                  + ", ".join(f"{k} {v}" for k, v in rat.items())]
    dirty = [r for r in runs if not r["clean"]]
    if dirty:
        lines.append(f"NOT CLEAN: {len(dirty)} run(s): see 'clean' in results.json")
    return "\n".join(lines)


# -- main -------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_args(p, "ban", "1 round, shorter runs (about 2 minutes)", 256,
                    "seconds after the load before the CPU is read", 12.0)
    p.add_argument("--rates", help="comma-separated packets/s of the drop phase")
    p.add_argument("--packets", type=int, help="packets per drop run")
    p.add_argument("--reg-rate", type=int, help="registrations/s of the register phase")
    p.add_argument("--registrations", type=int, help="registrations per register run")
    p.add_argument("--users", type=int, help="distinct users registered in turn")
    p.add_argument("--rounds", type=int, help="runs per proxy and load (alternating order)")
    p.add_argument("--skip-drop", action="store_true", help="only the register phase")
    p.add_argument("--skip-register", action="store_true", help="no register phase")
    p.add_argument("--skip-underflood", action="store_true", help="no register-under-flood phase")
    p.add_argument("--flood-rate", type=int, help="packets/s of the banned flood (underflood)")
    p.add_argument("--proxies", default=",".join(DEFAULT_PROXIES),
                   help=f"comma-separated, among {','.join(PROXIES)}")
    return p.parse_args(argv)


def build_config(args):
    limits = {"packets": (1, 1000000), "reg_rate": (1, 5000), "registrations": (1, 100000),
              "users": (1, 5000), "rounds": (1, 10), "flood_rate": (1, 200000)}
    return config_from(args, QUICK if args.quick else FULL, limits, "rates", args.rates, 200000)


def start_proxies(bench, args):
    for name in args.proxies.split(","):
        if name not in PROXIES:
            raise SystemExit(f"--proxies: unknown proxy {name}")
        workdir = os.path.join(args.out, name)
        os.makedirs(workdir)
        if name != "kamailio":
            proxy = BanSipwarden(name, workdir, os.path.abspath(args.sipwarden), bench.uas_port,
                                 bench.cfg["users"])
        else:
            proxy = BanKamailio(workdir, bench.uas_port, args.kamailio_shm, bench.cfg["users"])
        bench.proxies[proxy.name] = proxy
        proxy.start()
        log(f"{proxy.name} started on udp:{PROXY_IP}:{proxy.port}, pid {proxy.proc.pid}, "
            f"{len(proxy.pids())} process(es)")


def ban_everywhere(bench):
    """Bans BANNED_IP in each proxy; a probe before and after shows that the ban, not
    something else, silences the address. {proxy: {answered_before, listed, answered_after}}"""
    res = {}
    for name, proxy in bench.proxies.items():
        before = probe(proxy.port, BANNED_IP, 2.0)
        listed = proxy.ban(BANNED_IP)
        after = probe(proxy.port, BANNED_IP, 1.0)
        res[name] = {"answered_before": before, "listed": listed, "answered_after": after}
        log(f"{name}: {BANNED_IP} answered before the ban: {before}; banned: {listed}; "
            f"answered after: {after}")
        if not listed or after:
            raise RuntimeError(f"{name}: the ban of {BANNED_IP} did not take")
    return res


def main(argv):
    signal.signal(signal.SIGTERM, on_terminate)
    args = parse_args(argv)
    cfg = build_config(args)
    for tool in ("sipp", "kamailio", "kamcmd", "nft"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found")
    args.out = output_folder(args.out, "ban")
    env = environment(args.sipwarden)
    env.update({"quick": args.quick, "sipwarden_workers": 1, "kamailio_children": 1,
                "kamailio_shm_mb": args.kamailio_shm})
    bench = Bench(args, cfg)

    def drop():
        env["ban_check"] = ban_everywhere(bench)
        bench.drop_phase()

    phases = ([] if args.skip_drop else [drop]) + ([] if args.skip_register
                                                   else [bench.register_phase])
    phases += [] if args.skip_underflood else [bench.underflood_phase]
    stats_fd = enable_bpf_stats()
    env["bpf_stats"] = stats_fd is not None
    try:
        run_benchmark(bench, env, lambda: start_proxies(bench, args), phases, log)
    finally:
        if stats_fd is not None:
            os.close(stats_fd)
        nft_table_delete()
    summary = summarize(bench.runs, list(bench.proxies), cfg)
    rat = ratios(summary, cfg)
    text = report(bench.runs, summary, rat, env, cfg)
    path = write_results(args.out, text, {"environment": env, "config": cfg, "runs": bench.runs,
                                          "summary": summary, "ratios": rat})
    log(f"results in {path}")
    return 0 if all(r["clean"] for r in bench.runs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
