#!/usr/bin/env python3
"""REST API test: starts `bootherd serve` on a scratch data directory with ephemeral ports and exercises every
route of the OpenAPI document (checked at the end), authentication and CSRF failures, bad JSON, oversized
bodies, unknown ids, hostile requests, the live event stream and concurrent bulk actions.

    python3 tests/web/api_test.py --bootherd build/tools/bootherd/bootherd
"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

FAILURES = []
COVERED = set()  # (METHOD, openapi path) exercised


def check(condition, what):
    if condition:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        FAILURES.append(what)


class Server:
    def __init__(self, bootherd, data, extra_args=()):
        self.log_path = os.path.join(data, "serve.log")
        self.log = open(self.log_path, "a+")
        start = self.log.tell()  # a restarted server appends: read only its own lines
        self.proc = subprocess.Popen([bootherd, "serve", "--data", data, "--listen", "127.0.0.1:0",
                                      "--listen-http", "127.0.0.1:0", *extra_args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        self.password = None
        deadline = time.time() + 30
        while time.time() < deadline and self.port is None:
            time.sleep(0.1)
            text = open(self.log_path).read()[start:]
            m = re.search(r"web on [0-9.]+:(\d+)", text)
            if m:
                self.port = int(m.group(1))
                # The first admin password is in a 0600 file, never in the log.
                with open(os.path.join(data, "initial-admin-password")) as f:
                    self.password = f.readline().strip()
            if self.proc.poll() is not None:
                break
        if self.port is None:
            raise SystemExit("bootherd serve did not start:\n" + open(self.log_path).read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise SystemExit("bootherd serve did not stop on SIGTERM")


class Client:
    """One keep-alive connection; cookie session or bearer token."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = None
        self.csrf = None
        self.token = None

    def call(self, method, path, body=None, headers=None, route=None, csrf=True):
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        if self.cookie:
            h["Cookie"] = "bootherd_session=" + self.cookie
            if csrf and self.csrf and method not in ("GET", "HEAD"):
                h.setdefault("X-CSRF-Token", self.csrf)
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        if route:
            COVERED.add((method, route))
        parsed = None
        if r.getheader("Content-Type", "").startswith("application/json") and data:
            parsed = json.loads(data)
        return r.status, parsed, r, data


def read_until_closed(s):
    """Everything the server sends until it closes (or resets, or goes quiet past the socket's timeout)."""
    chunks = []
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return b"".join(chunks)


def raw_exchange(port, payload, read_timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    s.sendall(payload)
    return read_until_closed(s)


def send_body(port, head, body):
    """Sends a request with a Content-Length body; the server may answer and close before it is all sent."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return read_until_closed(s)


def status_of(raw):
    m = re.match(rb"HTTP/1.1 (\d+)", raw)
    return int(m.group(1)) if m else None


def wait_job(client, job):
    for _ in range(600):
        st, body, _, _ = client.call("GET", "/api/v1/jobs/%d" % job, route="/api/v1/jobs/{id}")
        if body and body["state"] != "running":
            return body
        time.sleep(0.1)
    return None


def make_disk(path, mib):
    with open(path, "wb") as f:
        for i in range(mib):
            block = os.urandom(4096) + bytes(1024 * 1024 - 4096) if i % 2 == 0 else bytes(1024 * 1024)
            f.write(block)


def csv_rows(n, bad=()):
    lines = ["name,mac,image,group,persistent"]
    for i in range(n):
        mac = "52:54:00:%02x:%02x:%02x" % (0x10, i // 256, i % 256)
        name = "pc-%03d" % i
        if i in bad:
            mac = "not-a-mac"
        lines.append("%s,%s,golden,lab,%s" % (name, mac, "true" if i % 2 else "false"))
    return "\n".join(lines) + "\n"


def wait_for(predicate, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def maintenance(admin, anon, data):
    """A node booted into an image's draft: edit with "on", its script, its JSON, commit refused while it is
    logged in to the draft (409 naming it), accepted after, and its script back on its own disk. On the way, its
    status as it boots (the one machine status: booting with the script and the firmware's login, booted with the
    OS's, off once both logged out) and the session state serve records in the catalog for the CLI."""
    perf = shutil.which("iscsi-perf")
    check(perf is not None, "iscsi-perf (libiscsi-bin) is installed")
    if not perf:
        return
    mac = "52:54:00:00:00:31"
    st, node, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "maint-1", "mac": mac, "image": "golden",
                                                          "bind_address": False})
    check(st == 201 and node["maintenance"] is None, "a new node maintains no image")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/edit", {"on": "nosuch"})
    check(st == 400 and body.get("field") == "on", "edit on an unknown node is 400 on on")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/edit", {"on": 5})
    check(st == 400 and body.get("field") == "on", "edit with a non-string on is 400 on on")
    st, draft, _, _ = admin.call("POST", "/api/v1/images/golden/edit", {"on": "maint-1"})
    check(st == 201 and draft["state"] == "draft" and draft["maintenance_node"] == "maint-1" and draft["chap"]["secret"]
          and draft["portals"], "edit with on makes a draft whose maintenance machine is the node")
    st, again, _, _ = admin.call("POST", "/api/v1/images/golden/edit", {"on": "maint-1"})
    check(st == 200 and again["number"] == draft["number"] and again["chap"] == draft["chap"],
          "edit with on again uses the existing draft (200)")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes/maint-1")
    check(body["maintenance"] == {"image": "golden", "version": draft["number"]}
          and any(e["step"] == "audit.image.edit" for e in body["events"]),
          "the node's JSON shows its maintenance, its events the audit entry")
    st, body, _, _ = admin.call("GET", "/api/v1/images/golden/versions")
    check(body["draft"]["maintenance_node"] == "maint-1", "versions name the draft's maintenance machine")

    initiator = node["iqn"] + ":initiator"
    st, _, _, text = anon.call("GET", "/boot/%s.ipxe" % mac)
    text = text.decode()
    host, port = draft["portals"][0].rsplit(":", 1)
    check(st == 200 and ("sanboot iscsi:%s::%s:0:%s " % (host, port, draft["target"])) in text
          and ("set initiator-iqn %s\n" % initiator) in text and ("set username %s\n" % draft["chap"]["user"]) in text
          and ("set password %s\n" % draft["chap"]["secret"]) in text,
          "the node's next script sanboots the draft with its initiator and the draft's CHAP")

    url = "iscsi://%s%%%s@%s:%s/%s/0" % (draft["chap"]["user"], draft["chap"]["secret"], host, port, draft["target"])
    catalog = sqlite3.connect(os.path.join(data, "catalog.db"), timeout=10)
    recorded = lambda: catalog.execute("SELECT state FROM nodes WHERE name = 'maint-1'").fetchone()[0]
    status = lambda: admin.call("GET", "/api/v1/nodes/maint-1")[1]["status"]
    listed = lambda wanted: [n["name"] for n in admin.call("GET", "/api/v1/nodes?status=" + wanted)[1]["items"]]
    check(wait_for(lambda: status() == "booting") and recorded() != "online", "served its script, the node is booting")
    hold = lambda: subprocess.Popen([perf, "-i", initiator, "-t", "60", url], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    holders = [hold()]  # the firmware's session
    try:
        sessions = lambda: [s for s in admin.call("GET", "/api/v1/sessions")[1]["items"] if s["target"] == draft["target"]]
        on_draft = lambda: len(sessions()) > 0
        check(wait_for(on_draft), "the node logs in to the draft")
        check(wait_for(lambda: recorded() == "online"), "serve records the session in the catalog (nodes.state online)")
        check(status() == "booting" and "maint-1" in listed("booting"),
              "logged in by its firmware only, a maintenance machine is booting (%s)" % status())
        holders.append(hold())  # the OS's own login
        check(wait_for(lambda: len(sessions()) == 2 and status() == "booted"),
              "with the OS logged in to the draft too, the maintenance machine is booted")
        overview = admin.call("GET", "/api/v1/overview")[1]["nodes"]
        check("maint-1" in listed("booted") and "maint-1" not in listed("booting") and overview["booted"] == 1
              and overview["total"] == overview["booted"] + overview["booting"] + overview["failed"] + overview["off"],
              "the status filter and the overview counts agree (%s)" % overview)
        for action in ("commit", "discard"):
            st, body, _, _ = admin.call("POST", "/api/v1/images/golden/" + action)
            check(st == 409 and body["error"] ==
                  "node maint-1 is still logged in to the draft of image 'golden': shut it down first",
                  "%s while the node is logged in to the draft is 409 naming it (%s)" % (action, body))
        holders.pop(0).terminate()  # the firmware's session ends: the OS's keeps the node online
        check(wait_for(lambda: len(sessions()) == 1), "the firmware's session ends")
        check(recorded() == "online" and status() == "booted", "one session left: still online and booted")
    finally:
        for holder in holders:
            holder.terminate()
            holder.wait(10)
    check(wait_for(lambda: not on_draft()), "the node logs out")
    check(wait_for(lambda: recorded() == "offline") and status() == "off" and "maint-1" in listed("off"),
          "logged out, the node is recorded offline and is off (%s)" % status())
    catalog.close()
    committed = lambda: admin.call("POST", "/api/v1/images/golden/commit")
    st, body = 0, None
    for _ in range(50):
        st, body, _, _ = committed()
        if st != 409:
            break
        time.sleep(0.2)
    check(st == 200 and body["state"] == "sealed" and body["maintenance_node"] is None, "commit once it logged out")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes/maint-1")
    check(body["maintenance"] is None, "after commit the node maintains nothing")
    st, _, _, text = anon.call("GET", "/boot/%s.ipxe" % mac)
    check(st == 200 and (":0:%s " % node["iqn"]) in text.decode(), "its next script sanboots its own disk again")
    admin.call("DELETE", "/api/v1/nodes/maint-1")


def server_routes(admin, reader, anon, data):
    """GET /api/v1/server, /api/v1/audit (filters, paging, bounds) and /api/v1/users: read scope, 401 without."""
    for path in ("/api/v1/server", "/api/v1/audit", "/api/v1/users"):
        st, _, _, _ = anon.call("GET", path)
        check(st == 401, "GET %s without credentials is 401" % path)

    st, body, _, _ = reader.call("GET", "/api/v1/server", route="/api/v1/server")
    check(st == 200 and re.fullmatch(r"\d+\.\d+\.\d+.*", body["version"]) and body["uptime_s"] >= 0
          and 0 < body["started_at"] <= time.time() * 1000 and body["data_dir"] == data,
          "GET /api/v1/server: version, start, uptime, data directory (read scope)")
    check(body["listeners"]["http"] == ["127.0.0.1:%d" % admin.port] and len(body["listeners"]["iscsi"]) == 1
          and body["listeners"]["iscsi"][0].startswith("127.0.0.1:"), "the server lists where it listens (%s)" % body["listeners"])
    check(body["dhcp"] == {"mode": "off", "interface": None, "range": None}, "DHCP off, without interface and range")
    lo = [i for i in body["interfaces"] if i["name"] == "lo"]
    check(lo and lo[0]["up"] and "127.0.0.1/8" in lo[0]["addresses"], "the interfaces include lo, up, with 127.0.0.1/8")
    store = body["store"]
    vfs = os.statvfs(data)
    nodes_total = admin.call("GET", "/api/v1/nodes?limit=1")[1]["total"]
    check(store["bytes_total"] == vfs.f_blocks * vfs.f_frsize and 0 < store["bytes_free"] <= store["bytes_total"]
          and store["bytes_used_images"] > 0 and store["images"] >= 2 and store["versions"] >= store["images"]
          and store["nodes"] == nodes_total and store["bytes_used_disks"] >= 0,
          "the store's file system, what images and disks use, and the counts (%s)" % store)

    st, body, _, _ = reader.call("GET", "/api/v1/audit", route="/api/v1/audit")
    items = body["items"] if body else []
    check(st == 200 and body["total"] >= len(items) > 5 and [i["id"] for i in items] == sorted([i["id"] for i in items], reverse=True)
          and all(isinstance(i["detail"], dict) and i["at"] > 0 for i in items),
          "GET /api/v1/audit: newest first, details as objects (read scope)")
    total = body["total"]
    st, body, _, _ = admin.call("GET", "/api/v1/audit?action=node")
    check(st == 200 and body["total"] > 0 and all(i["action"].startswith("node.") for i in body["items"]),
          "action=node gives node.* entries")
    st, body, _, _ = admin.call("GET", "/api/v1/audit?action=node.add&actor=admin&target=WS-")
    check(st == 200 and body["total"] > 0 and all(i["action"] == "node.add" and i["actor"] == "admin"
                                                  and "ws-" in i["target"].lower() for i in body["items"]),
          "action, actor and target (substring, any case) filters together")
    st, body, _, _ = admin.call("GET", "/api/v1/audit?actor=nobody")
    check(st == 200 and body == {"items": [], "total": 0}, "an unknown actor matches nothing")
    st, body, _, _ = admin.call("GET", "/api/v1/audit?actor=&action=&target=")
    check(st == 200 and body["total"] == total, "empty filters are no filters")
    st, page, _, _ = admin.call("GET", "/api/v1/audit?limit=2&offset=1")
    st2, first, _, _ = admin.call("GET", "/api/v1/audit?limit=3")
    check(st == 200 and len(page["items"]) == 2 and page["total"] >= total
          and [i["id"] for i in page["items"]] == [i["id"] for i in first["items"][1:3]], "limit and offset page")
    middle = first["items"][1]["at"]
    st, body, _, _ = admin.call("GET", "/api/v1/audit?since=%d&until=%d" % (middle, middle + 1))
    check(st == 200 and body["total"] >= 1 and all(i["at"] == middle for i in body["items"]), "since and until")
    st, body, _, _ = admin.call("GET", "/api/v1/audit?limit=1000")
    check(st == 200 and len(body["items"]) == min(1000, body["total"]), "limit 1000 is allowed")
    for query, field in [("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset"), ("since=abc", "since"),
                         ("until=-5", "until"), ("since=10&until=5", "until"), ("actor=" + "a" * 201, "actor"),
                         ("target=" + "t" * 201, "target")]:
        st, body, _, _ = admin.call("GET", "/api/v1/audit?" + query)
        check(st == 400 and body.get("field") == field, "bad audit query %s is 400 on %s" % (query[:20], field))

    st, body, _, _ = reader.call("GET", "/api/v1/users", route="/api/v1/users")
    users = body["items"] if body else []
    admin_user = [u for u in users if u["username"] == "admin"]
    check(st == 200 and admin_user and admin_user[0]["created_at"] > 0
          and admin_user[0]["created_at"] <= admin_user[0]["last_login_at"] <= time.time() * 1000
          and set(admin_user[0]) == {"id", "username", "created_at", "last_login_at"},
          "GET /api/v1/users: the admin with its creation and last login, no password hash (%s)" % users)


def cluster_servers(admin, reader, anon, data):
    """GET /api/v1/servers: empty for a single server without --server-name; with servers registered in the
    catalog (written here as other servers' registrations would be), each with its load, the machines homed
    on it, the versions it holds and whether its heartbeat is within this server's timeout (30 s)."""
    st, _, _, _ = anon.call("GET", "/api/v1/servers")
    check(st == 401, "GET /api/v1/servers without credentials is 401")
    st, body, _, _ = reader.call("GET", "/api/v1/servers", route="/api/v1/servers")
    check(st == 200 and body["items"] == [] and body["heartbeat_timeout_s"] == 30
          and abs(body["now"] - time.time() * 1000) < 60000,
          "GET /api/v1/servers: none registered by a serve without --server-name (read scope)")
    db = sqlite3.connect(os.path.join(data, "catalog.db"), timeout=10)
    try:
        now = int(time.time() * 1000)
        db.execute("INSERT INTO servers (name, iscsi_portal, web_url, capacity, max_booting, started_at, heartbeat_at, "
                   "sessions, booting) VALUES ('s-up', '10.0.0.1:3260', 'https://10.0.0.1:8443', 200, 16, ?, ?, 7, 2)",
                   (now - 60000, now - 2000))
        db.execute("INSERT INTO servers (name, iscsi_portal, capacity, max_booting, started_at, heartbeat_at) "
                   "VALUES ('s-down', '10.0.0.2:3260', 100, 0, ?, ?)", (now - 600000, now - 31000))
        up = db.execute("SELECT id FROM servers WHERE name = 's-up'").fetchone()[0]
        versions = db.execute("SELECT v.id, v.number FROM versions v JOIN images i ON i.id = v.image_id "
                              "WHERE i.name = 'golden' AND v.state = 'sealed' ORDER BY v.number").fetchall()
        for version_id, _ in versions:
            db.execute("INSERT INTO server_versions (server_id, version_id, verified_at) VALUES (?, ?, ?)",
                       (up, version_id, now))
        db.execute("UPDATE nodes SET home_server_id = ? WHERE id IN (SELECT id FROM nodes ORDER BY id LIMIT 3)", (up,))
        db.commit()
        st, body, _, _ = reader.call("GET", "/api/v1/servers")
        items = {s["name"]: s for s in body["items"]} if st == 200 else {}
        check(st == 200 and [s["name"] for s in body["items"]] == ["s-down", "s-up"], "servers listed by name")
        check(items.get("s-up") == {"name": "s-up", "iscsi_portal": "10.0.0.1:3260", "web_url": "https://10.0.0.1:8443",
                                    "capacity": 200, "max_booting": 16, "started_at": now - 60000,
                                    "heartbeat_at": now - 2000, "live": True, "homed": 3, "sessions": 7, "booting": 2,
                                    "versions": [{"image": "golden", "version": n} for _, n in versions]}
              and len(versions) >= 1,
              "a server heard from 2 s ago is live, with its load, 3 machines homed and the %d golden versions it holds"
              % len(versions))
        down = items.get("s-down", {})
        check(down.get("live") is False and down.get("web_url") is None and down.get("homed") == 0
              and down.get("versions") == [], "a server silent for 31 s is down, homes none and holds nothing")
    finally:
        db.execute("UPDATE nodes SET home_server_id = NULL")
        db.execute("DELETE FROM server_versions")
        db.execute("DELETE FROM servers")
        db.commit()
        db.close()


def rollouts(admin, script, disk, db, log_path):
    """Rollouts over REST: start one on an image with three machines and a second sealed version, read it,
    pause, resume, abort; refusals (404/400/409); promote and rollback refused while it is active."""
    st, body, _, _ = script.call("POST", "/api/v1/images", {"name": "fleet", "path": disk})
    check(st == 202 and wait_job(script, body["job"])["state"] == "done", "import image fleet")
    for i in range(1, 4):
        st, _, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "fleet-%d" % i, "mac": "52:54:00:00:f1:%02x" % i,
                                                           "image": "fleet"})
        check(st == 201, "enroll fleet-%d" % i)
    admin.call("POST", "/api/v1/images/fleet/edit")
    st, body, _, _ = admin.call("POST", "/api/v1/images/fleet/commit")
    check(st == 200 and body["number"] == 2 and body["state"] == "sealed", "fleet v2 sealed, v1 promoted")

    start = "/api/v1/images/fleet/rollouts"
    for payload, field, what in [({}, "version", "without a version"),
                                 ({"version": "two"}, "version", "with a non-integer version"),
                                 ({"version": 2, "soak": "10x"}, "soak", "with a bad soak"),
                                 ({"version": 2, "soak": -5}, "soak", "with a negative soak"),
                                 ({"version": 2, "max_failures": -1}, "max_failures", "with negative max_failures"),
                                 ({"version": 2, "min_ok": 0}, "min_ok", "with min_ok 0"),
                                 ({"version": 2, "canary": "9"}, "canary", "with a canary larger than the fleet"),
                                 ({"version": 2, "canary": "nosuch-node,fleet-1"}, "canary", "with an unknown canary"),
                                 ({"version": 2, "waves": [5]}, "waves", "with waves that are not strings"),
                                 ({"version": 2, "hours": "25-3"}, "hours", "with bad hours"),
                                 ({"version": 2, "webhook": "https://hooks.example/x"}, "webhook",
                                  "with a webhook that is not http://"),
                                 ({"version": 2, "colour": "red"}, "colour", "with an unknown field")]:
        st, body, _, _ = admin.call("POST", start, payload)
        check(st == 400 and body.get("field") == field,
              "start a rollout %s is 400 on %s (%s %s)" % (what, field, st, body))
    st, _, _, _ = admin.call("POST", "/api/v1/images/nosuch/rollouts", {"version": 2})
    check(st == 404, "a rollout of an unknown image is 404")
    st, _, _, _ = admin.call("POST", start, {"version": 42})
    check(st == 404, "a rollout of an unknown version is 404 (%s)" % st)
    st, body, _, _ = admin.call("POST", start, {"version": 1})
    check(st == 409, "a rollout of the promoted version is 409 (%s)" % st)

    st, ro, _, _ = admin.call("POST", start, {"version": 2, "canary": 1, "waves": ["100%"], "soak": "30s",
                                              "max_parallel": 2, "max_failures": 0,
                                              "webhook": "http://127.0.0.1:9/hook?token=hook-secret"},
                              route="/api/v1/images/{name}/rollouts")
    check(st == 201 and ro["state"] == "running" and ro["image"] == "fleet" and ro["from_version"] == 1
          and ro["to_version"] == 2 and ro["created_by"] == "admin", "POST /api/v1/images/{name}/rollouts starts one")
    if st != 201:
        return
    stages = ro["stages"]
    check(len(stages) == 2 and stages[0]["tally"]["members"] == 1 and stages[1]["tally"]["members"] == 2
          and stages[0]["soak_ms"] == 30000 and stages[0]["max_parallel"] == 2 and stages[0]["max_failures"] == 0,
          "the rollout has a canary of one machine and a wave of the other two")
    members = [m["node"] for s in stages for m in s["members"]]
    check(sorted(members) == ["fleet-1", "fleet-2", "fleet-3"]
          and all(m["boot"] is None and m["booting"] is False for s in stages for m in s["members"]),
          "every machine is in one stage, none booted the new version yet")
    check(stages[0]["tally"]["ok"] == 0 and stages[0]["tally"]["failed"] == 0 and stages[0]["started_at"],
          "the canary started with nothing counted")
    check(ro["webhook"] == "http://127.0.0.1:9/hook" and "hook-secret" not in json.dumps(ro),
          "the webhook is shown without its query (no token)")
    rid = ro["id"]
    path = "/api/v1/rollouts/%d" % rid

    st, body, _, _ = admin.call("GET", path, route="/api/v1/rollouts/{id}")
    check(st == 200 and body["id"] == rid and body["state"] == "running" and len(body["stages"]) == 2
          and body["events"] and isinstance(body["events"][0]["detail"], dict), "GET /api/v1/rollouts/{id}")
    st, body, _, _ = admin.call("GET", "/api/v1/rollouts", route="/api/v1/rollouts")
    check(st == 200 and [i for i in body["items"] if i["id"] == rid and i["state"] == "running"],
          "GET /api/v1/rollouts lists it")
    st, body, _, _ = admin.call("GET", "/api/v1/rollouts?image=golden")
    check(st == 200 and not [i for i in body["items"] if i["id"] == rid], "?image= filters")
    st, _, _, _ = admin.call("GET", "/api/v1/rollouts?image=nosuch")
    check(st == 404, "?image= of an unknown image is 404")
    for missing in ("/api/v1/rollouts/999999", "/api/v1/rollouts/abc", "/api/v1/rollouts/-1"):
        st, _, _, _ = admin.call("GET", missing)
        check(st == 404, "GET %s is 404" % missing)
    st, _, _, _ = admin.call("POST", "/api/v1/rollouts/999999/pause")
    check(st == 404, "pausing an unknown rollout is 404")

    st, body, _, _ = admin.call("POST", start, {"version": 2})
    check(st == 409, "a second rollout of the image is 409 (%s)" % st)
    st, body, _, _ = admin.call("POST", "/api/v1/images/fleet/promote", {"version": 2})
    check(st == 409 and "rollout" in body.get("error", ""), "promote is 409 while the rollout runs (%s %s)" % (st, body))
    st, body, _, _ = admin.call("POST", "/api/v1/images/fleet/rollback")
    check(st == 409 and "rollout" in body.get("error", ""), "rollback is 409 while the rollout runs (%s)" % st)

    st, body, _, _ = admin.call("POST", path + "/resume")
    check(st == 409, "resuming a running rollout is 409")
    st, body, _, _ = admin.call("POST", path + "/pause", route="/api/v1/rollouts/{id}/pause")
    check(st == 200 and body["state"] == "paused", "POST /api/v1/rollouts/{id}/pause")
    st, _, _, _ = admin.call("POST", path + "/pause", csrf=False)
    check(st == 403, "pause without the CSRF token is 403")
    st, body, _, _ = admin.call("POST", path + "/pause")
    check(st == 409, "pausing a paused rollout is 409")
    st, body, _, _ = admin.call("POST", "/api/v1/images/fleet/promote", {"version": 2})
    check(st == 409, "promote is 409 while the rollout is paused")
    st, body, _, _ = admin.call("POST", path + "/resume", route="/api/v1/rollouts/{id}/resume")
    check(st == 200 and body["state"] == "running", "POST /api/v1/rollouts/{id}/resume")
    st, body, _, _ = admin.call("POST", path + "/abort", route="/api/v1/rollouts/{id}/abort")
    check(st == 200 and body["state"] == "aborted" and body["ended_at"], "POST /api/v1/rollouts/{id}/abort")
    check(len(body["events"]) >= 4, "its history has the start, pause, resume and abort (%d)" % len(body["events"]))
    for action in ("pause", "resume", "abort"):
        st, _, _, _ = admin.call("POST", path + "/" + action)
        check(st == 409, "%s of an aborted rollout is 409" % action)
    st, _, _, text = admin.call("GET", "/metrics")
    check('bootherd_rollouts{state="aborted"} 1' in text.decode() and 'bootherd_rollouts{state="running"} 0' in text.decode(),
          "/metrics has the bootherd_rollouts gauge by state")
    actors = {row[0] for row in db.execute("SELECT actor FROM audit WHERE action LIKE 'rollout.%'")}
    check(actors == {"admin"}, "rollout changes are audited as the API user (%s)" % actors)
    st, body, _, _ = admin.call("POST", "/api/v1/images/fleet/promote", {"version": 2})
    check(st == 200, "promote works again once the rollout ended")
    rollout_halt_webhook(admin, db, log_path)


class WebhookReceiver:
    """A local HTTP listener that keeps the POSTs it gets."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                received.append((self.path, self.headers.get("Content-Type"), self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def rollout_halt_webhook(admin, db, log_path):
    """A canary machine's failed boot of the new version halts the rollout in the serving process: rolled back,
    the failure shown over REST, and the webhook POSTed (its token never in the log)."""
    admin.call("POST", "/api/v1/images/fleet/edit")
    st, body, _, _ = admin.call("POST", "/api/v1/images/fleet/commit")
    check(st == 200 and body["number"] == 3, "fleet v3 sealed beside the promoted v2")
    receiver = WebhookReceiver()
    try:
        token = "token-%d" % os.getpid()
        st, ro, _, _ = admin.call("POST", "/api/v1/images/fleet/rollouts", {
            "version": 3, "canary": 1, "webhook": "http://127.0.0.1:%d/hooks/bootherd?token=%s" % (receiver.port, token)})
        check(st == 201, "a rollout of fleet v3 with a webhook (%s)" % st)
        if st != 201:
            return
        canary = ro["stages"][0]["members"][0]["node"]
        now = int(time.time() * 1000)
        db.execute("""INSERT INTO boots (node_id, mac, version_id, started_at, script_at, ended_at, outcome, reason, message)
                      SELECT n.id, n.mac, v.id, ?, ?, ?, 'failed', 'health_failed', 'disk check failed'
                      FROM nodes n, versions v JOIN images i ON i.id = v.image_id
                      WHERE n.name = ? AND i.name = 'fleet' AND v.number = 3""", (now, now, now + 1000, canary))
        db.commit()
        path = "/api/v1/rollouts/%d" % ro["id"]
        halted = wait_for(lambda: admin.call("GET", path)[1]["state"] == "rolled_back", 30)
        st, body, _, _ = admin.call("GET", path)
        check(halted and body["reason"] and canary in body["reason"],
              "the failed boot halted and rolled back the rollout (%s: %s)" % (body["state"], body["reason"]))
        failures = body.get("failures", [])
        check(failures and failures[0]["node"] == canary and failures[0]["reason"] == "health_failed"
              and failures[0]["message"] == "disk check failed"
              and body["stages"][0]["members"][0]["boot"]["outcome"] == "failed"
              and body["stages"][0]["tally"]["failed"] == 1, "the rollout names the failed machine, why and its words")
        st, body, _, _ = admin.call("GET", "/api/v1/rollouts?image=fleet")
        check(body["items"][0]["id"] == ro["id"] and body["items"][0]["failures"][0]["node"] == canary,
              "the list names the failed machines of a rolled-back rollout")
        check(wait_for(lambda: receiver.received, 15), "the webhook was called")
        if receiver.received:
            hook_path, content_type, hook_body = receiver.received[0]
            hook = json.loads(hook_body)
            check(hook_path == "/hooks/bootherd?token=" + token and content_type == "application/json"
                  and hook["event"] == "rollout.halted" and hook["rollout"]["id"] == ro["id"]
                  and hook["rollout"]["state"] == "rolled_back" and hook["rollout"]["to_version"] == 3,
                  "the webhook got the rollout.halted document at its path and query (%s)" % hook)
        log = open(log_path).read()
        check("/hooks/bootherd" in log and token not in log, "the log names the webhook without its token")
        st, _, _, _ = admin.call("POST", path + "/abort")
        check(st == 200, "abort the rolled-back rollout")
    finally:
        receiver.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootherd", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="bootherd-web-")
    data = os.path.join(scratch, "data")
    os.makedirs(data)
    try:
        server = Server(args.bootherd, data)
        try:
            run(server, args, scratch, data)
        finally:
            server.stop()
            if FAILURES:
                print("--- server log ---")
                print(open(server.log_path).read()[-6000:])
        boot_timeouts(args, scratch)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


def boot_timeouts(args, scratch):
    """Boot outcome thresholds from the config file; the periodic tick fails a boot without OS login, also one
    that was running when the server stopped (running boots come back from the catalog)."""
    data = os.path.join(scratch, "timeouts")
    os.makedirs(data)
    cli = lambda *a: subprocess.run([args.bootherd, *a, "--data", data], capture_output=True, text=True, check=True)
    with open(os.path.join(scratch, "disk.raw"), "wb") as f:
        f.truncate(1 << 20)
    cli("image", "import", "base", os.path.join(scratch, "disk.raw"))
    cli("node", "add", "t-1", "--mac", "52:54:00:00:c0:01", "--image", "base", "--no-bind-address")
    cli("node", "add", "t-2", "--mac", "52:54:00:00:c0:02", "--image", "base", "--no-bind-address")
    config = os.path.join(scratch, "bootherd.toml")
    with open(config, "w") as f:
        f.write("[serve]\nboot-os-login-timeout = 2\nboot-ok-window = 3\n")
    db = sqlite3.connect(os.path.join(data, "catalog.db"), timeout=10)
    boot_of = lambda node: db.execute("SELECT b.outcome, b.reason, b.ended_at - b.started_at FROM boots b JOIN nodes n "
                                      "ON n.id = b.node_id WHERE n.name = ? ORDER BY b.id DESC", (node,)).fetchone()

    def wait_for(node, outcome, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            row = boot_of(node)
            if row and row[0] == outcome:
                return row
            time.sleep(0.2)
        return boot_of(node)

    server = Server(args.bootherd, data, ["--config", config])
    try:
        anon = Client(server.port)
        for mac in ("52:54:00:00:c0:01", "52:54:00:00:c0:02"):
            st, _, _, _ = anon.call("GET", "/boot/%s.ipxe" % mac)
            check(st == 200, "timeouts: %s is served its script" % mac)
        check(wait_for("t-1", "running", 5) == ("running", "", None), "timeouts: t-1's boot runs")
    finally:
        server.stop()
    states = lambda: sorted(r[0] for r in db.execute("SELECT state FROM nodes"))
    check(states() == ["offline", "offline"], "a stopped serve leaves every node recorded offline (%s)" % states())
    # A crash would leave a node online: the next start puts that right.
    db.execute("UPDATE nodes SET state = 'online' WHERE name = 't-2'")
    db.commit()
    time.sleep(2.5)  # both timeouts pass while the server is down
    server = Server(args.bootherd, data, ["--config", config])
    try:
        deadline = time.time() + 10
        while states() != ["offline", "offline"] and time.time() < deadline:
            time.sleep(0.1)
        check(states() == ["offline", "offline"], "serve's start records a stale online node offline (%s)" % states())
        check(wait_for("t-1", "failed", 10) == ("failed", "no_os_login", 2000) and
              wait_for("t-2", "failed", 10) == ("failed", "no_os_login", 2000),
              "timeouts: after a restart, boots without an OS login past --boot-os-login-timeout 2 (config file) "
              "fail, ending when it fell due (got %s, %s)" % (boot_of("t-1"), boot_of("t-2")))
        anon = Client(server.port)
        st, _, _, _ = anon.call("GET", "/boot/52:54:00:00:c0:01.ipxe")
        started = time.time()
        fresh = wait_for("t-1", "running", 5)
        row = wait_for("t-1", "failed", 10)
        boots = db.execute("SELECT count(*) FROM boots b JOIN nodes n ON n.id = b.node_id WHERE n.name = 't-1'").fetchone()
        check(fresh == ("running", "", None) and row == ("failed", "no_os_login", 2000) and boots == (2,)
              and time.time() - started < 9,
              "timeouts: the running server's tick fails a new boot too (got %s then %s)" % (fresh, row))
    finally:
        server.stop()
        db.close()
        if FAILURES:
            print(open(server.log_path).read()[-3000:])


def run(server, args, scratch, data):
    port = server.port
    check(server.password, "first start writes the generated admin password to DATA/initial-admin-password")
    check(server.password not in open(server.log_path).read(), "the admin password is not in the log")
    anon = Client(port)

    # --- public routes and authentication failures ---
    st, body, _, _ = anon.call("GET", "/healthz", route="/healthz")
    check(st == 200 and body == {"status": "ok"}, "GET /healthz without auth")
    st, _, r, data_ = anon.call("GET", "/boot/52:54:00:aa:bb:cc.ipxe", route="/boot/{mac}.ipxe")
    check(st == 404 and r.getheader("Content-Type", "").startswith("text/plain"),
          "GET /boot/{mac}.ipxe is public and 404 for a MAC without a script")
    for method, path in [("GET", "/api/v1/nodes"), ("GET", "/metrics"), ("POST", "/api/v1/groups"),
                         ("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/events/stream")]:
        st, body, _, _ = anon.call(method, path, body={} if method == "POST" else None)
        check(st == 401 and body and "error" in body, "%s %s without auth is 401 JSON" % (method, path))
    st, body, _, _ = anon.call("GET", "/api/v1/me", route="/api/v1/me")
    check(st == 401, "GET /api/v1/me without a session is 401")
    st, body, _, _ = anon.call("POST", "/api/v1/login", {"username": "admin", "password": "wrong-password"})
    check(st == 401 and body["error"], "login with a wrong password is 401")
    st, body, _, _ = anon.call("POST", "/api/v1/login", '{"username": "admin", "password": ', {"Content-Type": "application/json"})
    check(st == 400 and "JSON" in body["error"], "login with bad JSON is 400")
    st, body, _, _ = anon.call("POST", "/api/v1/login", {"username": "admin"})
    check(st == 400 and body.get("field") == "password", "login without password names the field")
    st, body, _, _ = anon.call("POST", "/api/v1/login", {"username": "admin", "password": "x"},
                               {"Origin": "http://evil.example"})
    check(st == 403, "login with a foreign Origin is 403")
    st, _, _, _ = anon.call("GET", "/api/v1/nodes", headers={"Authorization": "Bearer 00ff"})
    check(st == 401, "an unknown API token is 401")
    st, _, _, _ = anon.call("GET", "/api/v1/nodes", headers={"Cookie": "bootherd_session=forged"})
    check(st == 401, "a forged session cookie is 401")

    admin = Client(port)
    st, body, r, _ = admin.call("POST", "/api/v1/login", {"username": "admin", "password": server.password},
                                route="/api/v1/login")
    cookie = r.getheader("Set-Cookie", "")
    check(st == 200 and body["username"] == "admin" and body["csrf_token"], "login as admin")
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie,
          "session cookie is HttpOnly, SameSite=Strict, Path=/")
    admin.cookie = re.match(r"bootherd_session=([^;]+)", cookie).group(1)
    admin.csrf = body["csrf_token"]
    st, body, _, _ = admin.call("GET", "/api/v1/me", route="/api/v1/me")
    check(st == 200 and body["csrf_token"] == admin.csrf, "GET /api/v1/me returns the CSRF token")

    # --- CSRF ---
    st, body, _, _ = admin.call("POST", "/api/v1/groups", {"name": "nocsrf"}, csrf=False)
    check(st == 403 and body["error"] == "CSRF token missing or wrong", "cookie POST without CSRF header is 403")
    st, body, _, _ = admin.call("POST", "/api/v1/groups", {"name": "nocsrf"}, headers={"X-CSRF-Token": "x" * 64})
    check(st == 403, "cookie POST with a wrong CSRF token is 403")

    # --- API tokens ---
    st, body, _, _ = admin.call("POST", "/api/v1/tokens", {"name": "script"}, route="/api/v1/tokens")
    check(st == 201 and len(body["token"]) >= 32, "POST /api/v1/tokens shows the secret once")
    script = Client(port)
    script.token = body["token"]
    token_id = body["id"]
    st, body, _, _ = admin.call("GET", "/api/v1/tokens", route="/api/v1/tokens")
    check(st == 200 and any(t["id"] == token_id for t in body["items"]) and all("token" not in t for t in body["items"]),
          "GET /api/v1/tokens lists tokens without secrets")
    st, body, _, _ = admin.call("POST", "/api/v1/tokens", {"name": ""})
    check(st == 400 and body.get("field") == "name", "token with an empty name is 400")
    st, body, _, _ = script.call("GET", "/api/v1/me")
    check(st == 200 and body["username"] == "admin", "Bearer token authenticates")
    st, body, _, _ = admin.call("POST", "/api/v1/tokens", {"name": "prometheus", "scope": "read", "expires_in": 3600})
    check(st == 201 and body["scope"] == "read" and body["expires"] > body["created"],
          "POST /api/v1/tokens with a read scope and a lifetime")
    reader = Client(port)
    reader.token = body["token"]
    st, _, _, _ = reader.call("GET", "/metrics")
    check(st == 200, "a read token GETs /metrics")
    st, _, _, _ = reader.call("POST", "/api/v1/groups", {"name": "read-only"})
    check(st == 403, "a read token cannot POST")
    st, body, _, _ = admin.call("POST", "/api/v1/tokens", {"name": "x", "scope": "root"})
    check(st == 400 and body.get("field") == "scope", "an unknown token scope is 400")
    st, body, _, _ = admin.call("POST", "/api/v1/tokens", {"name": "x", "expires_in": 0})
    check(st == 400 and body.get("field") == "expires_in", "a token lifetime below 1 s is 400")

    # --- images ---
    disk = os.path.join(data, "import", "golden.raw")  # the API imports only from the import directory
    make_disk(disk, 8)
    outside = os.path.join(scratch, "outside.raw")
    make_disk(outside, 1)
    st, body, _, _ = script.call("POST", "/api/v1/images", {"name": "outside", "path": outside})
    check(st == 400 and body.get("field") == "path" and "import directory" in body["error"],
          "import from outside the import directory is 400 on path")
    st, body, _, _ = script.call("POST", "/api/v1/images", {"name": "golden", "path": disk}, route="/api/v1/images")
    check(st == 202 and "job" in body, "POST /api/v1/images starts an import job (token, no CSRF needed)")
    job = wait_job(script, body["job"])
    check(job and job["state"] == "done" and job["progress"] == 1, "import job finishes")
    st, body, _, _ = script.call("POST", "/api/v1/images", {"name": "other", "path": "/nonexistent"})
    check(st == 400 and body.get("field") == "path", "import from a missing path is 400 on path")
    st, body, _, _ = script.call("POST", "/api/v1/images", {"name": "golden", "path": disk})
    check(st == 409, "import under an existing name is 409")
    st, _, _, _ = script.call("GET", "/api/v1/jobs/999999")
    check(st == 404, "unknown job is 404")
    with open(disk, "rb") as f:
        upload = f.read()
    raw = raw_exchange(port, b"PUT /api/v1/images/uploaded/upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                             b"Expect: 100-continue\r\n\r\n" % len(upload))
    check(status_of(raw) == 401, "unauthenticated upload is refused before the body")
    st, body, _, _ = script.call("PUT", "/api/v1/images/uploaded/upload", upload,
                                 {"Content-Type": "application/octet-stream"}, route="/api/v1/images/{name}/upload")
    check(st == 202, "PUT /api/v1/images/{name}/upload accepted")
    job = wait_job(script, body["job"])
    check(job and job["state"] == "done", "upload import finishes")
    check(job["started_at"] > 0 and job["finished_at"] >= job["started_at"] and "error" not in job,
          "a finished job has its start and end times")
    st, body, _, _ = reader.call("GET", "/api/v1/jobs", route="/api/v1/jobs")
    ids = [j["id"] for j in body["items"]] if body else []
    check(st == 200 and len(ids) == 2 and ids == sorted(ids, reverse=True) and body["items"][0]["id"] == job["id"]
          and body["items"][0]["description"] == "import uploaded" and body["items"][1]["state"] == "done",
          "GET /api/v1/jobs lists the jobs newest first (read scope) (%s)" % body)
    st, body, _, _ = script.call("GET", "/api/v1/images", route="/api/v1/images")
    names = {i["name"]: i for i in body["items"]}
    check(st == 200 and set(names) == {"golden", "uploaded"} and names["golden"]["promoted_version"] == 1
          and names["golden"]["size_bytes"] == 8 * 1024 * 1024, "GET /api/v1/images lists both, v1 promoted")
    leftovers = [f for f in os.listdir(os.path.join(data, "tmp")) if f.startswith("upload-")]
    check(leftovers == [], "upload scratch files are removed")

    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/edit", route="/api/v1/images/{name}/edit")
    check(st == 201 and body["state"] == "draft" and body["target"].endswith("draft.golden"), "edit opens a draft")
    draft_chap = body.get("chap") or {}
    check(len(draft_chap.get("user", "")) >= 8 and len(draft_chap.get("secret", "")) >= 12,
          "edit answers the draft's own CHAP credentials")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/edit")
    check(st == 409, "a second edit is 409")
    st, body, _, _ = admin.call("GET", "/api/v1/images/golden/versions", route="/api/v1/images/{name}/versions")
    check(st == 200 and body["draft"] and body["draft"]["number"] == 2 and len(body["items"]) == 1, "versions show the draft")
    check(body["draft"]["chap"] == draft_chap and all("chap" not in v for v in body["items"]),
          "versions show the draft's CHAP credentials, sealed versions none")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/commit", route="/api/v1/images/{name}/commit")
    check(st == 200 and body["number"] == 2 and body["state"] == "sealed" and not body["promoted"], "commit seals v2")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/promote", {"version": 2}, route="/api/v1/images/{name}/promote")
    check(st == 200 and body["number"] == 2 and body["promoted"], "promote v2")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/promote", {"version": "two"})
    check(st == 400 and body.get("field") == "version", "promote with a non-integer version is 400")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/promote", {"version": 42})
    check(st in (404, 409), "promote an unknown version is 404/409 (%s)" % st)
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/rollback", route="/api/v1/images/{name}/rollback")
    check(st == 200 and body["number"] == 1 and body["promoted"], "rollback to v1")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/flatten", {"version": 2}, route="/api/v1/images/{name}/flatten")
    check(st == 201 and body["number"] == 3 and body["parent"] is None, "flatten v2 into standalone v3")
    st, body, _, _ = admin.call("POST", "/api/v1/images/golden/discard")
    check(st == 409, "discard without a draft is 409")
    admin.call("POST", "/api/v1/images/golden/edit")
    st, _, _, _ = admin.call("POST", "/api/v1/images/golden/discard", route="/api/v1/images/{name}/discard")
    check(st == 204, "discard a draft")
    for action in ("promote", "rollback", "edit", "commit", "discard", "flatten"):
        st, body, _, _ = admin.call("POST", "/api/v1/images/nosuch/" + action, {"version": 1})
        check(st == 404, "%s on an unknown image is 404" % action)
    st, _, _, _ = admin.call("GET", "/api/v1/images/nosuch/versions")
    check(st == 404, "versions of an unknown image is 404")
    # --- a sealed version's file, as another server pulls it ---
    v1_path = os.path.join(data, "images", "golden", "v1.vhdx")
    with open(v1_path, "rb") as f:
        v1_bytes = f.read()
    route = "/api/v1/images/{name}/versions/{number}/file"
    st, _, r, raw = admin.call("GET", "/api/v1/images/golden/versions/1/file", route=route)
    check(st == 200 and raw == v1_bytes and r.getheader("Content-Length") == str(len(v1_bytes))
          and r.getheader("ETag") == '"%s"' % hashlib.sha256(v1_bytes).hexdigest()
          and r.getheader("Accept-Ranges") == "bytes", "GET a version's file: its bytes, ETag = SHA-256")
    st, _, r, raw = admin.call("GET", "/api/v1/images/golden/versions/1/file", headers={"Range": "bytes=1000-"})
    check(st == 206 and raw == v1_bytes[1000:]
          and r.getheader("Content-Range") == "bytes 1000-%d/%d" % (len(v1_bytes) - 1, len(v1_bytes)),
          "a Range request gets the rest of the file (206)")
    st, _, r, _ = admin.call("GET", "/api/v1/images/golden/versions/1/file", headers={"Range": "bytes=%d-" % len(v1_bytes)})
    check(st == 416 and r.getheader("Content-Range") == "bytes */%d" % len(v1_bytes), "a range past the end is 416")
    st, _, _, _ = reader.call("GET", "/api/v1/images/golden/versions/1/file")
    check(st == 403, "a read-only token may not read a version's file")
    for target in ("golden/versions/9/file", "nosuch/versions/1/file", "golden/versions/x/file"):
        st, _, _, _ = admin.call("GET", "/api/v1/images/" + target)
        check(st == 404, "GET /api/v1/images/%s is 404" % target)
    st, body, _, _ = admin.call("GET", "/api/v1/images/golden", route="/api/v1/images/{name}")
    check(st == 200 and body["name"] == "golden" and body["promoted_version"] == 1 and body["draft"] is False
          and [v["number"] for v in body["versions"]["items"]] == [1, 2, 3] and body["versions"]["draft"] is None,
          "GET /api/v1/images/{name}: the image with its versions")
    st, _, _, _ = admin.call("GET", "/api/v1/images/nosuch")
    check(st == 404, "GET an unknown image is 404")
    st, body, _, _ = script.call("PUT", "/api/v1/images/doomed/upload", upload, {"Content-Type": "application/octet-stream"})
    check(st == 202 and wait_job(script, body["job"])["state"] == "done", "a third image to delete")
    st, _, _, _ = admin.call("DELETE", "/api/v1/images/doomed", route="/api/v1/images/{name}")
    check(st == 204 and admin.call("GET", "/api/v1/images/doomed")[0] == 404
          and not os.path.exists(os.path.join(data, "images", "doomed")),
          "DELETE /api/v1/images/{name} deletes the image and its files")
    st, _, _, _ = admin.call("DELETE", "/api/v1/images/doomed")
    check(st == 404, "DELETE an unknown image is 404")

    # --- groups ---
    st, body, _, _ = admin.call("POST", "/api/v1/groups", {"name": "lab", "image": "golden"}, route="/api/v1/groups")
    check(st == 201 and body["image"] == "golden" and body["nodes"] == 0, "POST /api/v1/groups")
    st, body, _, _ = admin.call("POST", "/api/v1/groups", {"name": "lab"})
    check(st == 409 and body.get("field") == "name", "duplicate group is 409 on name")
    st, body, _, _ = admin.call("DELETE", "/api/v1/images/golden")
    check(st == 409 and "group(s) lab" in body["error"] and admin.call("GET", "/api/v1/images/golden")[0] == 200,
          "DELETE an image a group uses is 409 naming the group (%s)" % body.get("error"))
    st, body, _, _ = admin.call("POST", "/api/v1/groups", {"name": "bad/name"})
    check(st == 400 and body.get("field") == "name", "invalid group name is 400 on name")
    st, body, _, _ = admin.call("POST", "/api/v1/groups", {"name": "x", "image": "nosuch"})
    check(st == 400 and body.get("field") == "image", "group with an unknown image is 400 on image")
    admin.call("POST", "/api/v1/groups", {"name": "office", "persistent": True})
    st, body, _, _ = admin.call("GET", "/api/v1/groups/office", route="/api/v1/groups/{name}")
    check(st == 200 and body["persistent"] is True and body["image"] is None, "GET /api/v1/groups/{name}")
    st, body, _, _ = admin.call("PATCH", "/api/v1/groups/office", {"image": "uploaded", "description": "2nd floor"},
                                route="/api/v1/groups/{name}")
    check(st == 200 and body["image"] == "uploaded" and body["description"] == "2nd floor", "PATCH /api/v1/groups/{name}")
    st, _, _, _ = admin.call("PATCH", "/api/v1/groups/nosuch", {"persistent": False})
    check(st == 404, "PATCH an unknown group is 404")
    # Removing a group's image while a member has none of its own is refused before anything changes.
    admin.call("POST", "/api/v1/groups", {"name": "imaged", "image": "uploaded"})
    st, _, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-grouped", "mac": "52:54:00:00:00:7e", "group": "imaged"})
    check(st == 201, "a member that takes its image from its group")
    st, body, _, _ = admin.call("PATCH", "/api/v1/groups/imaged", {"image": None})
    check(st == 409 and "ws-grouped" in body.get("error", "") and body.get("field") == "image",
          "removing the image of a group with an image-less member is 409 naming it")
    st, body, _, _ = admin.call("GET", "/api/v1/groups/imaged")
    check(st == 200 and body["image"] == "uploaded", "the refused change left the group's image as it was")
    admin.call("DELETE", "/api/v1/nodes/ws-grouped")
    admin.call("DELETE", "/api/v1/groups/imaged")

    # --- nodes ---
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-1", "mac": "52:54:00:00:00:01", "image": "golden"},
                                route="/api/v1/nodes")
    check(st == 201 and body["image"] == "golden" and body["disk_version"] == 1 and body["status"] == "off",
          "POST /api/v1/nodes creates the node on the promoted version")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-1", "mac": "52:54:00:00:00:02"})
    check(st == 409 and body.get("field") == "name", "duplicate node name is 409 on name")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-2", "mac": "52-54-00-00-00-01"})
    check(st == 409 and body.get("field") == "mac", "duplicate MAC is 409 on mac")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-2", "mac": "zz"})
    check(st == 400 and body.get("field") == "mac", "bad MAC is 400 on mac")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-2", "mac": "52:54:00:00:00:02", "group": "nosuch"})
    check(st == 400 and body.get("field") == "group", "unknown group is 400 on group")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-2", "mac": 5})
    check(st == 400 and body.get("field") == "mac", "non-string MAC is 400 on mac")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", "[1,2", {"Content-Type": "application/json"})
    check(st == 400, "bad JSON is 400")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", "[1,2]", {"Content-Type": "application/json"})
    check(st == 400, "a JSON array body is 400")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes/ws-1", route="/api/v1/nodes/{name}")
    check(st == 200 and body["mac"] == "52:54:00:00:00:01" and any(e["step"] == "audit.node.add" for e in body["events"]),
          "GET /api/v1/nodes/{name} with its events")
    check("chap_secret" not in json.dumps(body), "node JSON does not reveal the CHAP secret")
    st, body, _, _ = admin.call("PATCH", "/api/v1/nodes/ws-1", {"persistent": True, "enabled": False, "group": "lab"},
                                route="/api/v1/nodes/{name}")
    check(st == 200 and body["persistent"] and not body["enabled"] and body["group"] == "lab", "PATCH /api/v1/nodes/{name}")
    st, body, _, _ = admin.call("PATCH", "/api/v1/nodes/ws-1", {"image": "uploaded"})
    check(st == 200 and body["image"] == "uploaded" and body["disk_version"] == 1, "PATCH image gives a disk on the new image")
    st, body, _, _ = admin.call("PATCH", "/api/v1/nodes/ws-1", {"persistent": "yes"})
    check(st == 400 and body.get("field") == "persistent", "PATCH with a wrong type is 400 on the field")
    st, _, _, _ = admin.call("PATCH", "/api/v1/nodes/nosuch", {"enabled": True})
    check(st == 404, "PATCH an unknown node is 404")
    st, _, _, _ = admin.call("GET", "/api/v1/nodes/nosuch")
    check(st == 404, "GET an unknown node is 404")
    # --- each machine is itself: host name and fixed address ---
    st, body, _, _ = admin.call("GET", "/api/v1/nodes/ws-1")
    check(body["hostname"] is None and body["effective_hostname"] == "ws-1" and body["fixed_ip"] is None,
          "a node without a host name goes by its name; no fixed address")
    st, body, _, _ = admin.call("PATCH", "/api/v1/nodes/ws-1", {"hostname": "Desk-1.Lab", "fixed_ip": "10.77.0.11",
                                                               "enabled": True, "bind_address": False})
    check(st == 200 and body["hostname"] == "desk-1.lab" and body["effective_hostname"] == "desk-1.lab"
          and body["fixed_ip"] == "10.77.0.11", "PATCH sets host name (lower case) and fixed address")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-9", "mac": "52:54:00:00:00:09",
                                                          "fixed_ip": "10.77.0.11"})
    check(st == 409 and body.get("field") == "fixed_ip" and "ws-1" in body.get("error", "")
          and "UNIQUE" not in body.get("error", ""), "a second machine with the same fixed address is 409 naming the holder")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-9", "mac": "52:54:00:00:00:09",
                                                          "hostname": "DESK-1.lab"})
    check(st == 409 and body.get("field") == "hostname", "a second machine with the same host name is 409")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-9", "mac": "52:54:00:00:00:09",
                                                          "hostname": "bad_name"})
    check(st == 400 and body.get("field") == "hostname", "an invalid host name is 400 on hostname")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-9", "mac": "52:54:00:00:00:09",
                                                          "fixed_ip": "224.0.0.9"})
    check(st == 400 and body.get("field") == "fixed_ip", "a multicast fixed address is 400 on fixed_ip")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes", {"name": "ws-9", "mac": "52:54:00:00:00:09",
                                                          "hostname": "ws9", "fixed_ip": "10.77.0.19"})
    check(st == 201 and body["hostname"] == "ws9" and body["fixed_ip"] == "10.77.0.19",
          "POST /api/v1/nodes with hostname and fixed_ip")
    st, _, _, boot_script = anon.call("GET", "/boot/52:54:00:00:00:01.ipxe")
    check(st == 200 and "set hostname desk-1.lab\n" in boot_script.decode(),
          "the boot script sets the host name (iPXE puts it in the iBFT)")
    st, body, _, _ = admin.call("PATCH", "/api/v1/nodes/ws-9", {"hostname": None, "fixed_ip": None})
    check(st == 200 and body["hostname"] is None and body["effective_hostname"] == "ws-9" and body["fixed_ip"] is None,
          "PATCH null drops host name and fixed address")
    st, _, _, _ = admin.call("DELETE", "/api/v1/nodes/ws-9")
    check(st == 204, "DELETE ws-9")

    st, _, _, _ = admin.call("DELETE", "/api/v1/nodes/ws-1", route="/api/v1/nodes/{name}")
    check(st == 204, "DELETE /api/v1/nodes/{name}")
    st, _, _, _ = admin.call("DELETE", "/api/v1/nodes/ws-1")
    check(st == 404, "DELETE it again is 404")

    maintenance(admin, anon, data)

    # --- CSV import ---
    bad_csv = csv_rows(300, bad=(10, 150, 299))
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/import?validate_only=1", bad_csv, {"Content-Type": "text/csv"},
                                route="/api/v1/nodes/import")
    lines = sorted(e["line"] for e in body.get("errors", []))
    check(st == 422 and lines == [12, 152, 301] and all(e["field"] == "mac" for e in body["errors"]),
          "validate_only reports the 3 bad rows with their lines")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/import", bad_csv, {"Content-Type": "text/csv"})
    check(st == 422, "import with bad rows is 422")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes")
    check(body["total"] == 0, "... and writes nothing")
    good_csv = csv_rows(300)
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/import?validate_only=1", good_csv, {"Content-Type": "text/csv"})
    check(st == 200 and body == {"valid": True, "rows": 300}, "validate_only on the fixed file")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/import", good_csv, {"Content-Type": "text/csv"})
    check(st == 201 and body["imported"] == 300, "import 300 nodes")

    st, body, _, _ = admin.call("GET", "/api/v1/nodes?limit=1000", route="/api/v1/nodes")
    check(st == 200 and body["total"] == 300 and len(body["items"]) == 300, "GET /api/v1/nodes lists 300")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes?limit=10&offset=295")
    check(body["total"] == 300 and [n["name"] for n in body["items"]] == ["pc-%03d" % i for i in range(295, 300)], "paging")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes?q=pc-01")
    check(body["total"] == 10, "q filter matches a name substring")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes?q=00:10:00:0a")
    check(body["total"] == 1 and body["items"][0]["name"] == "pc-010", "q filter matches a MAC substring")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes?group=lab&image=golden&status=off&limit=5")
    check(body["total"] == 300 and len(body["items"]) == 5, "group, image and status filters")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes?status=booted")
    check(body["total"] == 0, "no node is booted")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes?status=failed")
    check(st == 200 and body["total"] == 0, "status=failed is a filter too; no boot failed yet")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes?group=nosuch")
    check(st == 200 and body["total"] == 0, "unknown group filter matches nothing")
    for query, field in [("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset"), ("limit=abc", "limit"),
                         ("status=on", "status"), ("status=online", "status")]:
        st, body, _, _ = admin.call("GET", "/api/v1/nodes?" + query)
        check(st == 400 and body.get("field") == field, "bad query %s is 400 on %s" % (query, field))
    st, body, _, _ = admin.call("GET", "/api/v1/groups", route="/api/v1/groups")
    lab = [g for g in body["items"] if g["name"] == "lab"]
    check(st == 200 and lab and lab[0]["nodes"] == 300, "GET /api/v1/groups counts members")

    # --- concurrent bulk actions ---
    names = ["pc-%03d" % i for i in range(300)]
    results = {}

    def bulk(worker, payload):
        c = Client(port)
        c.token = script.token
        st_, body_, _, _ = c.call("POST", "/api/v1/nodes/bulk", payload, route="/api/v1/nodes/bulk")
        results[worker] = (st_, body_)

    jobs = [
        threading.Thread(target=bulk, args=(0, {"names": names[0:150], "action": "assign", "group": "office"})),
        threading.Thread(target=bulk, args=(1, {"names": names[150:300], "action": "persistence", "persistent": True})),
        threading.Thread(target=bulk, args=(2, {"names": names[100:200], "action": "disable"})),
        threading.Thread(target=bulk, args=(3, {"names": names[250:300], "action": "reset"})),
    ]
    started = time.time()
    for t in jobs:
        t.start()
    # The server keeps answering other clients while the bulk actions run.
    st, _, _, _ = admin.call("GET", "/healthz")
    check(st == 200, "healthz answers during bulk actions")
    for t in jobs:
        t.join()
    print("     4 concurrent bulk actions took %.1f s" % (time.time() - started))
    check(all(results[w][0] == 200 and all(r["ok"] for r in results[w][1]["results"]) for w in range(4)),
          "4 concurrent bulk actions all succeed")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes?limit=1000")
    by_name = {n["name"]: n for n in body["items"]}
    check(all(by_name[n]["group"] == "office" and by_name[n]["image"] == "golden" for n in names[0:150]),
          "bulk assign: group office on 150 nodes (their own image choice stays)")
    check(all(by_name[n]["persistent"] for n in names[150:300]), "bulk persistence on 150 nodes")
    check(all(not by_name[n]["enabled"] for n in names[100:200]) and all(by_name[n]["enabled"] for n in names[200:300]),
          "bulk disable on exactly 100 nodes")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/bulk", {"names": names[100:200], "action": "enable"})
    check(st == 200 and all(r["ok"] for r in body["results"]), "bulk enable (cookie + CSRF)")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/bulk", {"names": ["pc-000", "nosuch"], "action": "wake"})
    by = {r["name"]: r for r in body["results"]}
    check(st == 200 and by["nosuch"]["ok"] is False and "nosuch" in by["nosuch"]["error"] and "ok" in by["pc-000"],
          "bulk wake answers per node; an unknown name fails alone")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/bulk", {"names": names[:2], "action": "explode"})
    check(st == 400 and body.get("field") == "action", "unknown bulk action is 400 on action")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/bulk", {"names": names[:2], "action": "assign", "image": "nosuch"})
    check(st == 400 and body.get("field") == "image", "bulk assign to an unknown image is 400 on image")
    st, body, _, _ = admin.call("POST", "/api/v1/nodes/bulk", {"names": names[290:300], "action": "delete"})
    check(st == 200 and all(r["ok"] for r in body["results"]), "bulk delete 10")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes")
    check(body["total"] == 290, "290 nodes left")

    # --- discovered machines (written by another process, as the DHCP service would) ---
    db = sqlite3.connect(os.path.join(data, "catalog.db"), timeout=10)
    now = int(time.time() * 1000)
    db.execute("INSERT INTO discovered (mac, first_seen, last_seen, arch, vendor_class) VALUES (?, ?, ?, ?, ?)",
               ("52:54:00:99:00:01", now, now, "x86-64 UEFI", "PXEClient:Arch:00007"))
    db.execute("INSERT INTO discovered (mac, first_seen, last_seen, arch, vendor_class) VALUES (?, ?, ?, ?, ?)",
               ("52:54:00:99:00:02", now, now, "x86 BIOS", "PXEClient:Arch:00000"))
    db.commit()
    st, body, _, _ = admin.call("GET", "/api/v1/discovered", route="/api/v1/discovered")
    check(st == 200 and {d["mac"] for d in body["items"]} == {"52:54:00:99:00:01", "52:54:00:99:00:02"},
          "GET /api/v1/discovered")
    st, body, _, _ = admin.call("POST", "/api/v1/discovered/enroll",
                                {"items": [{"mac": "52:54:00:99:00:01", "name": "new-1", "group": "lab"},
                                           {"mac": "bad", "name": "new-2"}]})
    check(st == 400 and body.get("field") == "items[1].mac", "enroll with a bad item is 400 naming it")
    st, body, _, _ = admin.call("GET", "/api/v1/nodes/new-1")
    check(st == 404, "... and enrols none")
    st, body, _, _ = admin.call("POST", "/api/v1/discovered/enroll",
                                {"items": [{"mac": "52:54:00:99:00:01", "name": "new-1", "group": "lab"},
                                           {"mac": "52:54:00:99:00:02", "name": "new-2", "image": "golden"}]},
                                route="/api/v1/discovered/enroll")
    check(st == 201 and body["enrolled"] == 2, "POST /api/v1/discovered/enroll")
    st, body, _, _ = admin.call("GET", "/api/v1/discovered")
    check(body["items"] == [], "enrolled machines leave the discovered list")

    # --- events: list, per node, stream ---
    st, body, _, _ = admin.call("GET", "/api/v1/events?limit=5", route="/api/v1/events")
    check(st == 200 and len(body["items"]) == 5 and body["items"][0]["id"] > body["items"][1]["id"], "GET /api/v1/events newest first")
    newest = body["items"][0]["id"]
    st, body, _, _ = admin.call("GET", "/api/v1/events?after=%d" % (newest - 3))
    check([e["id"] for e in body["items"]] == [newest - 2, newest - 1, newest], "GET /api/v1/events?after= oldest first")
    st, body, _, _ = admin.call("GET", "/api/v1/events?node=new-2")
    check(st == 200 and body["items"] and all(e["node"] == "new-2" for e in body["items"]), "GET /api/v1/events?node=")
    st, _, _, _ = admin.call("GET", "/api/v1/events?node=nosuch")
    check(st == 404, "events of an unknown node is 404")

    received = []
    stream_ready = threading.Event()

    def listen():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        c.request("GET", "/api/v1/events/stream", headers={"Authorization": "Bearer " + script.token})
        r = c.getresponse()
        received.append(("status", r.status, r.getheader("Content-Type")))
        stream_ready.set()
        deadline = time.time() + 15
        while time.time() < deadline and sum(1 for x in received if x[0] == "data") < 2:
            line = r.fp.readline().decode()
            if line.startswith("data: "):
                received.append(("data", json.loads(line[6:])))
        c.close()

    COVERED.add(("GET", "/api/v1/events/stream"))
    t = threading.Thread(target=listen)
    t.start()
    stream_ready.wait(10)
    time.sleep(0.3)
    db.execute("INSERT INTO events (at, node_id, mac, kind, detail) VALUES (?, NULL, ?, 'dhcp.discover', '{}')",
               (int(time.time() * 1000), "52:54:00:77:77:77"))
    db.commit()
    admin.call("POST", "/api/v1/nodes", {"name": "live-1", "mac": "52:54:00:00:00:77"})
    t.join(20)
    check(received and received[0][1] == 200 and received[0][2].startswith("text/event-stream"),
          "GET /api/v1/events/stream is text/event-stream")
    steps = [x[1]["step"] for x in received if x[0] == "data"]
    check("dhcp.discover" in steps and "audit.node.add" in steps,
          "the stream delivers an event written by another process and the API's own (got %s)" % steps)

    # --- live state ---
    st, body, _, _ = admin.call("GET", "/api/v1/sessions", route="/api/v1/sessions")
    check(st == 200 and body["items"] == [], "GET /api/v1/sessions (none open)")
    st, body, _, _ = admin.call("GET", "/api/v1/overview", route="/api/v1/overview")
    check(st == 200 and body["nodes"]["total"] == 293 and body["nodes"]["off"] == 293 and body["sessions"] == 0
          and body["storage"]["images_bytes"] > 0 and body["storage"]["full_copies_bytes"] >= 8 * 1024 * 1024,
          "GET /api/v1/overview")
    st, _, r, text = script.call("GET", "/metrics", route="/metrics")
    text = text.decode()
    check(st == 200 and r.getheader("Content-Type").startswith("text/plain") and 'bootherd_nodes{status="off"} 293' in text
          and "# TYPE bootherd_iscsi_sessions gauge" in text, "GET /metrics in Prometheus text format")
    server_routes(admin, reader, anon, data)
    cluster_servers(admin, reader, anon, data)
    st, doc, _, _ = admin.call("GET", "/api/v1/openapi.json", route="/api/v1/openapi.json")
    check(st == 200 and doc["openapi"].startswith("3.") and "/api/v1/nodes" in doc["paths"], "GET /api/v1/openapi.json")

    # --- oversized bodies and hostile requests ---
    auth = b"Authorization: Bearer " + script.token.encode() + b"\r\n"
    big = json.dumps({"name": "x" * (1100 * 1024), "mac": "52:54:00:00:00:03"}).encode()
    raw = send_body(port, b"POST /api/v1/nodes HTTP/1.1\r\nHost: x\r\n" + auth, big)
    check(status_of(raw) == 413, "a JSON body over 1 MiB is 413")
    raw = send_body(port, b"POST /api/v1/nodes/import HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n" + auth,
                    b"name,mac\n" + b"a,b\n" * (2 * 1024 * 1024 + 100))
    check(status_of(raw) == 413, "a CSV body over 8 MiB is 413")
    raw = raw_exchange(port, b"POST /api/v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
    check(status_of(raw) == 413, "a Content-Length over the limit is refused before the body is sent")
    raw = raw_exchange(port, b"POST /api/v1/nodes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             b"Authorization: Bearer " + script.token.encode() + b"\r\n\r\n"
                       + (b"100000\r\n" + b"a" * 0x100000 + b"\r\n") * 2 + b"0\r\n\r\n")
    check(status_of(raw) == 413, "a chunked body over the limit is 413")
    check(status_of(raw_exchange(port, b"GARBAGE\r\n\r\n")) == 400, "a malformed request line is 400")
    check(status_of(raw_exchange(port, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")) == 431,
          "an oversized header is 431")
    check(status_of(raw_exchange(port, b"GET /api/v1/nodes?q=%zz HTTP/1.1\r\nHost: x\r\n\r\n")) == 400,
          "a malformed query string is 400")
    check(status_of(raw_exchange(port, b"GET /api/v1/nodes/%00 HTTP/1.1\r\nHost: x\r\n\r\n")) == 404,
          "an escaped NUL in a path is 404")
    raw = raw_exchange(port, b"POST /api/v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", read_timeout=3)
    check(raw == b"" or status_of(raw) in (400, 401, 408), "a truncated body is dropped, not answered as complete")
    st, body, _, _ = admin.call("GET", "/api/v1/nosuch")
    check(st == 404 and body["error"], "unknown route is 404 JSON")
    st, body, _, _ = admin.call("PUT", "/api/v1/nodes")
    check(st == 405 and body["error"], "wrong method is 405 JSON")
    st, _, _, _ = admin.call("GET", "/ui/../../etc/passwd")
    check(st == 404, "path traversal finds nothing")
    st, _, _, _ = admin.call("DELETE", "/api/v1/groups/nosuch")
    check(st == 404, "DELETE an unknown group is 404")
    st, _, _, _ = admin.call("DELETE", "/api/v1/groups/office", route="/api/v1/groups/{name}")
    check(st == 204, "DELETE /api/v1/groups/{name}")
    # Keep-alive survives everything above on this connection.
    st, _, _, _ = admin.call("GET", "/healthz")
    check(st == 200, "the server is still healthy after hostile requests")

    # --- boot records and health reports ---
    def from_address(address, method, path, body=None, headers=None):
        """A request from another loopback address, as a machine on the boot network would send it."""
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20, source_address=(address, 0))
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data_ = r.read()
        c.close()
        parsed = json.loads(data_) if r.getheader("Content-Type", "").startswith("application/json") and data_ else None
        return r.status, parsed

    def first_boot(name):
        deadline = time.time() + 10
        while time.time() < deadline:
            st_, body_, _, _ = admin.call("GET", "/api/v1/nodes/%s/boots" % name)
            if st_ == 200 and body_["items"]:
                return body_["items"][0]
            time.sleep(0.1)
        return None

    def bind(name, address):
        """What serving a bound node its script does: tie its boot to the address it came from."""
        db.execute("UPDATE nodes SET bind_address = 1, boot_address = ?, boot_address_at = ? WHERE name = ?",
                   (address, int(time.time() * 1000), name))
        db.commit()

    for name, mac in (("boot-1", "52:54:00:00:b0:01"), ("boot-2", "52:54:00:00:b0:02")):
        st, _, _, _ = admin.call("POST", "/api/v1/nodes", {"name": name, "mac": mac, "image": "golden",
                                                            "bind_address": False})
        check(st == 201, "node %s for boot records" % name)
        st, _, _, script_text = anon.call("GET", "/boot/%s.ipxe" % mac)
        check(st == 200 and b"sanboot" in script_text, "%s is served its sanboot script" % name)
    boot = first_boot("boot-1")
    COVERED.add(("GET", "/api/v1/nodes/{name}/boots"))
    check(boot is not None and boot["node"] == "boot-1" and boot["mac"] == "52:54:00:00:b0:01"
          and boot["outcome"] == "running" and boot["image"] == "golden" and isinstance(boot["version"], int)
          and boot["ended_at"] is None and boot["reason"] == "" and isinstance(boot["started_at"], int)
          and [s["step"] for s in boot["steps"]] == ["script"] and boot["steps"][0]["at"] == boot["started_at"],
          "serving the script starts a running boot record (got %s)" % boot)
    st, _, _, _ = admin.call("GET", "/api/v1/nodes/nosuch/boots")
    check(st == 404, "boots of an unknown node is 404")

    bind("boot-1", "127.0.0.2")
    bind("boot-2", "127.0.0.4")
    st, _ = from_address("127.0.0.3", "POST", "/boot/health", "state=ok",
                         {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 403, "POST /boot/health from an address no boot is bound to is 403")
    st, _, _, _ = anon.call("POST", "/boot/health", "state=failed", {"Content-Type": "application/x-www-form-urlencoded"},
                            route="/boot/health")
    check(st == 403, "... from the server's own address too")
    st, body = from_address("127.0.0.2", "POST", "/boot/health", "state=maybe",
                            {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and body.get("field") == "state", "a state other than ok|failed is 400 on state")
    st, body = from_address("127.0.0.2", "POST", "/boot/health", "state=ok&message=" + "x" * 1001,
                            {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 400 and body.get("field") == "message", "an overlong message is 400 on message")
    # What `curl -fsS -X POST -d state=ok http://SERVER:8080/boot/health` sends.
    st, body = from_address("127.0.0.2", "POST", "/boot/health", "state=ok&message=all+up%21",
                            {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200 and body["node"] == "boot-1" and body["message"] == "all up!" and body["outcome"] == "running"
          and [s["step"] for s in body["steps"]] == ["script", "health"],
          "a form-encoded ok report from the bound address is recorded; ok waits for the OS login (got %s)" % body)
    st, body = from_address("127.0.0.4", "POST", "/boot/health", json.dumps({"state": "failed", "message": "disk\nfull"}),
                            {"Content-Type": "application/json"})
    check(st == 200 and body["node"] == "boot-2" and body["outcome"] == "failed" and body["reason"] == "health_failed"
          and body["message"] == "disk?full" and body["ended_at"] is not None
          and [s["step"] for s in body["steps"]] == ["script", "health", "end"],
          "a JSON failed report fails the boot (got %s)" % body)
    st, body = from_address("127.0.0.4", "POST", "/boot/health", "state=ok",
                            {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 409, "a report without a running boot is 409")
    refused = [row[0] for row in db.execute("SELECT detail FROM events WHERE kind = 'boot.health.refused'")]
    check(len(refused) == 2 and "127.0.0.3" in refused[0], "refused reports are recorded as events (%s)" % refused)

    st, body, _, _ = admin.call("GET", "/api/v1/boots?outcome=failed", route="/api/v1/boots")
    check(st == 200 and body["total"] == 1 and body["items"][0]["node"] == "boot-2", "GET /api/v1/boots?outcome=failed")
    version = boot["version"] if boot else 0
    st, body, _, _ = admin.call("GET", "/api/v1/boots?image=golden&version=%d&limit=1" % version)
    check(st == 200 and body["total"] == 2 and len(body["items"]) == 1 and body["items"][0]["node"] == "boot-2",
          "GET /api/v1/boots?image=&version=&limit= newest first, paged")
    st, body, _, _ = admin.call("GET", "/api/v1/boots?image=uploaded")
    check(st == 200 and body["total"] == 0, "image filter")
    for query, field in [("outcome=bogus", "outcome"), ("version=0", "version"), ("limit=0", "limit")]:
        st, body, _, _ = admin.call("GET", "/api/v1/boots?" + query)
        check(st == 400 and body.get("field") == field, "bad boots query %s is 400 on %s" % (query, field))
    st, body, _, _ = admin.call("GET", "/api/v1/boots/summary", route="/api/v1/boots/summary")
    golden = [i for i in body["items"] if i["image"] == "golden" and i["version"] == version]
    check(st == 200 and golden and golden[0]["running"] == 1 and golden[0]["failed"] == 1 and golden[0]["ok"] == 0,
          "GET /api/v1/boots/summary counts outcomes per image version")
    st, _, _, text = script.call("GET", "/metrics")
    check(('bootherd_boot_outcomes_total{image="golden",version="%d",outcome="failed"} 1' % version) in text.decode()
          and "bootherd_boot_duration_seconds_bucket" in text.decode(),
          "/metrics counts boot outcomes per image version")

    rollouts(admin, script, disk, db, server.log_path)

    # --- token revocation, logout, audit, password change ---
    st, _, _, _ = admin.call("DELETE", "/api/v1/tokens/%d" % token_id, route="/api/v1/tokens/{id}")
    check(st == 204, "DELETE /api/v1/tokens/{id}")
    st, _, _, _ = script.call("GET", "/api/v1/nodes")
    check(st == 401, "a revoked token is 401")
    st, _, _, _ = admin.call("DELETE", "/api/v1/tokens/%d" % token_id)
    check(st == 404, "revoking it again is 404")
    actions = {row[0] for row in db.execute("SELECT action FROM audit")}
    expected = {"user.login", "token.create", "token.delete", "image.import", "image.upload", "image.edit",
                "image.commit", "image.promote", "image.rollback", "image.flatten", "image.discard", "group.add",
                "group.update", "group.delete", "node.add", "node.update", "node.delete", "node.import", "node.assign",
                "node.persistence", "node.disable", "node.enable", "node.reset", "node.delete", "node.enroll"}
    check(expected <= actions, "every state change is in the audit log (missing %s)" % sorted(expected - actions))
    db.close()
    st, _, _, _ = admin.call("POST", "/api/v1/logout", csrf=False)
    check(st == 403, "logout without the CSRF token is 403")
    st, _, _, _ = admin.call("POST", "/api/v1/logout", headers={"Origin": "http://evil.example"})
    check(st == 403, "logout with a foreign Origin is 403")
    st, _, r, _ = admin.call("POST", "/api/v1/logout", route="/api/v1/logout")
    check(st == 204 and "Max-Age=0" in r.getheader("Set-Cookie", ""), "POST /api/v1/logout expires the cookie")
    st, _, _, _ = admin.call("GET", "/api/v1/nodes")
    check(st == 401, "the session is gone after logout")

    relog = Client(port)
    relog.call("POST", "/api/v1/login", {"username": "admin", "password": server.password})
    proc = subprocess.run([args.bootherd, "admin", "set-password", "--data", data], input="new-password-123\n",
                          capture_output=True, text=True)
    check(proc.returncode == 0, "bootherd admin set-password")
    check(not os.path.exists(os.path.join(data, "initial-admin-password")),
          "set-password deletes the file with the first password")
    st, _, _, _ = anon.call("POST", "/api/v1/login", {"username": "admin", "password": server.password})
    check(st == 401, "the old password no longer works")
    st, body, _, _ = anon.call("POST", "/api/v1/login", {"username": "admin", "password": "new-password-123"})
    check(st == 200, "the new password works")
    proc = subprocess.run([args.bootherd, "admin", "set-password", "--data", data], input="short\n",
                          capture_output=True, text=True)
    check(proc.returncode != 0, "a too-short password is refused")

    # --- every route of the OpenAPI document was exercised ---
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    missing = sorted(documented - COVERED)
    check(not missing, "every documented route was exercised (missing: %s)" % missing)


if __name__ == "__main__":
    main()
