#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol on --remote-debugging-pipe (no
websocket module needed) against the sipwarden dashboard, and checks it against the API.

usage: drive.py CHROMIUM ADMIN_BASE TOKEN OUT_DIR UA_PAYLOAD CALLS

1. loads ADMIN_BASE/dashboard (no token needed), pastes a wrong token (reported, then
   forgotten), then TOKEN;
2. waits for refreshes, then checks the figures shown (calls in progress, calls and
   failures per minute, bans, open alerts, trunk state and calls, spend cap) against the
   API's JSON read with the same token; CALLS calls must be in progress;
3. checks that the attacker's user agent UA_PAYLOAD (markup) is shown as text and made
   no element; keeps OUT_DIR/dashboard.png;
4. clicks "Isolate" of trunk provider, accepts the confirmation (whose text must name
   the trunk), and checks through the API that the trunk is isolated and its calls
   ended, and on the page that the state changed; keeps OUT_DIR/dashboard-isolated.png;
5. removes the attacker's ban with its "Unban" button (confirmation accepted).
Chromium gets its own --user-data-dir under OUT_DIR, reaches only loopback (every host
name resolves to nothing, no proxy, no background services) and is stopped by PID.
Every wait is bounded. Exit 0 when every check passed; prints what failed otherwise.
"""
import base64
import json
import os
import select
import subprocess
import sys
import time
import urllib.request


class Fail(Exception):
    pass


class Browser:
    def __init__(self, chromium, out_dir):
        # fd 3: commands to chromium; fd 4: its answers and events (NUL-terminated JSON).
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        profile = os.path.join(out_dir, "chromium-profile")
        args = [
            chromium, "--headless", "--remote-debugging-pipe",
            "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
            f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
            "--disable-gpu", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update",
            "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
            "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
            "--window-size=1400,1800", "about:blank",
        ]

        def fds():
            os.dup2(cmd_r, 3)
            os.dup2(res_w, 4)

        self.log = open(os.path.join(out_dir, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=fds,
                                     stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(res_w)
        self.next_id = 0
        self.buf = b""
        self.events = []
        self.session = None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # by PID: the process we started
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise Fail("chromium did not answer in time")
            ready, _, _ = select.select([self.res_r], [], [], left)
            if ready:
                chunk = os.read(self.res_r, 1 << 20)
                if not chunk:
                    raise Fail("chromium closed its pipe")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def wait_for(self, match, timeout=10.0):
        """The first message (answer or event) for which match() is true; events kept."""
        for i, m in enumerate(self.events):
            if match(m):
                return self.events.pop(i)
        deadline = time.time() + timeout
        while True:
            m = self._read(deadline)
            if match(m):
                return m
            if "method" in m:
                self.events.append(m)
                self.events = self.events[-200:]

    def call(self, method, params=None, timeout=10.0, session=True):
        cid = self.send(method, params, session)
        m = self.wait_for(lambda x: x.get("id") == cid, timeout)
        if "error" in m:
            raise Fail(f"{method}: {m['error']}")
        return m.get("result", {})

    def js(self, expression, timeout=10.0):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True}, timeout)
        if "exceptionDetails" in r:
            raise Fail(f"script error: {r['exceptionDetails']}")
        return r["result"].get("value")

    def attach(self):
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"}, timeout=20)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


def api(base, token, path):
    req = urllib.request.Request(base + "/api/v1/" + path,
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


# What the page shows, read in one evaluation.
READ_PAGE = """(() => {
  const t = (id) => document.getElementById(id).textContent;
  const rows = (id) => [...document.getElementById(id).tBodies[0].rows]
      .map((r) => [...r.cells].map((c) => c.textContent));
  return {refreshes: Number(document.body.dataset.refreshes || 0),
          state: t('state'),
          calls: t('calls-now'), cpm: t('calls-per-minute'), fpm: t('failures-per-minute'),
          bans: t('bans-count'), alerts: t('alerts-count'),
          trunks: rows('trunks'), callRows: rows('calls'), banRows: rows('bans'),
          attackers: rows('attackers'), alertRows: rows('alerts'),
          images: document.querySelectorAll('img').length,
          pwned: window.pwned === 1 || document.title !== 'sipwarden'};
})()"""


def wait_refresh(b, after, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        page = b.js(READ_PAGE)
        if page["refreshes"] > after:
            return page
        time.sleep(0.2)
    raise Fail(f"the page did not refresh (state: {b.js(READ_PAGE)['state']!r})")


def money(micro):
    return f"{micro / 1e6:.2f}"


def compare(b, base, token):
    """The page's figures against the API read just after one of its refreshes; a figure
    that moved in between (a call, a failure) gets another round."""
    problems = []
    for _ in range(5):
        before = b.js(READ_PAGE)["refreshes"]
        page = wait_refresh(b, before)
        status = api(base, token, "status")
        trunks = api(base, token, "trunks")["trunks"]
        bans = api(base, token, "bans")["bans"]
        alerts = api(base, token, "alerts")["open"]
        t = trunks[0]
        row = next((r for r in page["trunks"] if r[0] == t["name"]), None)
        cap = t["spend"]["daily_cap"] if t["spend"] else None
        problems = [what for what, ok in [
            ("calls in progress", page["calls"] == str(status["calls"])),
            ("calls listed", len(page["callRows"]) == status["calls"]),
            ("calls per minute", page["cpm"] == str(status["calls_per_minute"])),
            ("failures per minute", page["fpm"] == str(status["failures_per_minute"])),
            ("bans", page["bans"] == str(status["bans"]) and
             sorted(r[0] for r in page["banRows"]) == sorted(x["ip"] for x in bans)),
            ("open alerts", page["alerts"] == str(status["alerts_open"]) and
             len(page["alertRows"]) == len(alerts)),
            ("trunk row", row is not None and row[2] == t["state"] and
             row[4] == f"{t['calls']} / {t['max_calls']}"),
            ("trunk spend cap", row is not None and cap is not None and
             row[5].endswith(" / " + money(cap))),
        ] if not ok]
        if not problems:
            return page, status
    raise Fail(f"the page differs from the API: {problems}; page {page}; status {status}")


def run(argv):
    chromium, base, token, out_dir, payload, want_calls = argv[1:7]
    b = Browser(chromium, out_dir)
    try:
        b.attach()
        b.call("Page.navigate", {"url": base + "/dashboard"})
        loaded = "location.pathname === '/dashboard' && document.readyState === 'complete'"
        deadline = time.time() + 20
        while b.js(loaded) is not True:
            if time.time() > deadline:
                raise Fail(f"the page did not load: {b.js('location.href')}")
            time.sleep(0.1)
        if b.js("document.getElementById('state').textContent").find("No token") < 0:
            raise Fail("the page does not ask for the token first")
        # A wrong token: refused once, forgotten, and the page stops asking with it.
        paste = ("document.getElementById('token').value = %s;"
                 "document.getElementById('token-form').requestSubmit(); true")
        b.js(paste % json.dumps("wrong-" + token))
        deadline = time.time() + 10
        while "refused" not in b.js("document.getElementById('state').textContent"):
            if time.time() > deadline:
                raise Fail("a wrong token is not reported")
            time.sleep(0.1)
        if b.js("sessionStorage.length") != 0:
            raise Fail("the refused token is still kept")
        b.js(paste % json.dumps(token))
        page = wait_refresh(b, 0)
        if b.js(f"sessionStorage.getItem('sipwarden.admin.token') === {json.dumps(token)}") is not True:
            raise Fail("the token is not kept in sessionStorage")
        if b.js("document.cookie") != "":
            raise Fail("the page set a cookie")
        page, status = compare(b, base, token)
        print(f"page: calls {page['calls']} per-minute {page['cpm']} failures/min {page['fpm']} "
              f"bans {page['bans']} alerts {page['alerts']}")
        if status["calls"] != int(want_calls):
            raise Fail(f"{status['calls']} calls in progress, expected {want_calls}")
        if page["cpm"] != want_calls:
            raise Fail(f"{page['cpm']} calls started in the last minute, expected {want_calls}")
        if int(page["fpm"]) < 3 or int(page["bans"]) < 1:
            raise Fail("the attack is not shown (failures per minute, bans)")
        attacker = next((r for r in page["attackers"] if r[0] == "127.0.0.7"), None)
        if attacker is None or attacker[1:] != ["3", "InvalidPassword", payload, "yes"]:
            raise Fail(f"the attacker is not shown as text and banned: {page['attackers']}")
        if page["images"] != 0 or page["pwned"]:
            raise Fail("attacker markup became page content")
        b.screenshot(os.path.join(out_dir, "dashboard.png"))

        # The incident action through the page: isolate the trunk, confirmation accepted.
        b.send("Runtime.evaluate", {"expression":
               "document.querySelector('button[data-action=\"trunks/isolate\"]"
               "[data-trunk=\"provider\"]').click(); true"})
        dialog = b.wait_for(lambda m: m.get("method") == "Page.javascriptDialogOpening", 10)
        question = dialog["params"]["message"]
        if dialog["params"]["type"] != "confirm" or "provider" not in question:
            raise Fail(f"no confirmation naming the trunk: {dialog['params']}")
        b.call("Page.handleJavaScriptDialog", {"accept": True})
        deadline = time.time() + 10
        while time.time() < deadline:
            t = api(base, token, "trunks")["trunks"][0]
            if t["state"] == "isolated" and api(base, token, "status")["calls"] == 0:
                break
            time.sleep(0.2)
        else:
            raise Fail(f"the trunk is not isolated with its calls ended: {t}")
        if t["isolation"]["reason"] != "dashboard" or "admin API" not in t["isolation"]["by"]:
            raise Fail(f"the isolation does not say who: {t['isolation']}")
        deadline = time.time() + 10
        while time.time() < deadline:
            page = b.js(READ_PAGE)
            if page["trunks"][0][2] == "isolated" and page["calls"] == "0":
                break
            time.sleep(0.2)
        else:
            raise Fail(f"the page does not show the isolation: {page['trunks']}")
        # The calls ended: the day's spend no longer moves, shown as the API has it.
        spend = api(base, token, "trunks")["trunks"][0]["spend"]
        shown = money(spend["today"] + spend["live"]) + " / " + money(spend["daily_cap"])
        page = wait_refresh(b, page["refreshes"])
        if page["trunks"][0][5] != shown or spend["today"] <= 0:
            raise Fail(f"spend shown {page['trunks'][0][5]!r}, API {spend}")
        print(f"isolated through the page; spend today {shown}")
        # Unban the attacker from its row in the bans table.
        b.send("Runtime.evaluate", {"expression":
               "document.querySelector('#bans button[data-ip=\"127.0.0.7\"]').click(); true"})
        dialog = b.wait_for(lambda m: m.get("method") == "Page.javascriptDialogOpening", 10)
        if "127.0.0.7" not in dialog["params"]["message"]:
            raise Fail(f"the unban confirmation does not name the address: {dialog['params']}")
        b.call("Page.handleJavaScriptDialog", {"accept": True})
        deadline = time.time() + 10
        while any(x["ip"] == "127.0.0.7" for x in api(base, token, "bans")["bans"]):
            if time.time() > deadline:
                raise Fail("the ban was not removed through the page")
            time.sleep(0.2)
        b.screenshot(os.path.join(out_dir, "dashboard-isolated.png"))
    finally:
        b.stop()


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    if not sys.argv[2].startswith("http://127."):
        sys.exit("loopback only")
    try:
        run(sys.argv)
    except (Fail, OSError, KeyError, StopIteration) as e:
        print(f"FAIL: {e!r}")
        sys.exit(1)
    print("dashboard ok")


if __name__ == "__main__":
    main()
