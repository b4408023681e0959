"""Attacks a web page could make on the local server are refused; legitimate use works.

DNS rebinding (a foreign Host), CSRF (a cross-site form POST), SSRF through
webhooks (private targets at create, and a DNS answer that changes before
delivery), and the headers the page is served with.
"""

import http.client
import threading
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from app import create_app
from reelsmith.core import netguard
from reelsmith.core.settings import Settings
from tests.helpers import wait_for
from tests.helpers.live import serve
from tests.helpers.servers import WebhookReceiver


def make_app(tmp_path, runner=None, **settings):
    settings = Settings.build(
        data_dir=tmp_path / "instance", cache_dir=tmp_path / "cache", **settings
    )
    test_config = {"SETTINGS": settings, "RUNNER": runner or (lambda task, report: {"ok": True})}
    if runner is None:
        test_config["START_WORKERS"] = False  # requests queue; nothing runs
    return create_app(test_config)


def raw_request(base_url, method, path, headers, body=b""):
    """One request with exactly these headers (http.client sends our Host as given)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type"), data


# -- DNS rebinding: the Host allow-list ----------------------------------------


def test_a_foreign_host_is_refused_over_real_http(tmp_path):
    app = make_app(tmp_path)
    with serve(app) as url:
        port = urlsplit(url).port
        for path in ("/api/tasks", "/", "/api/task/" + "0" * 32 + "/video"):
            status, ctype, body = raw_request(url, "GET", path, {"Host": f"evil.example:{port}"})
            assert status == 400 and ctype == "application/json", (path, status)
            assert b"'evil.example' is not allowed" in body and b"ALLOWED_HOSTS" in body
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST"):
            status, _, _ = raw_request(url, "GET", "/api/tasks", {"Host": host})
            assert status == 200, host


def test_allowed_hosts_and_the_bound_address_extend_the_list(tmp_path):
    app = make_app(tmp_path, allowed_hosts=("videos.lan",))
    app.config["BIND_HOST"] = "192.168.1.20"
    client = app.test_client()
    assert client.get("/api/tasks", base_url="http://videos.lan:5000").status_code == 200
    assert client.get("/api/tasks", base_url="http://192.168.1.20:5000").status_code == 200
    assert client.get("/api/tasks", base_url="http://192.168.1.21:5000").status_code == 400
    assert client.get("/", base_url="http://other.lan").status_code == 400


# -- CSRF: the Origin check ------------------------------------------------------


def test_a_cross_site_form_post_is_refused_over_real_http(tmp_path):
    app = make_app(tmp_path)
    form = b"topic=free+video"
    with serve(app) as url:
        host = urlsplit(url).netloc
        headers = {
            "Host": host,
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "http://evil.example",
        }
        status, ctype, body = raw_request(url, "POST", "/api/create", headers, form)
        assert status == 403 and ctype == "application/json"
        assert b"http://evil.example" in body
        assert app.extensions["reelsmith"].store.list() == []  # nothing was queued
        # the same form from the page's own origin, and from curl (no Origin), is accepted
        status, _, _ = raw_request(url, "POST", "/api/create", {**headers, "Origin": url}, form)
        assert status == 202
        del headers["Origin"]
        status, _, _ = raw_request(url, "POST", "/api/create", headers, form)
        assert status == 202
    assert len(app.extensions["reelsmith"].store.list()) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost:8080"},  # another local app, another port
        {"Origin": "null"},  # a sandboxed frame or a file:// page
        {"Origin": "https://localhost.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},  # a browser that left Origin out
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_other_cross_origin_state_changes_are_refused(tmp_path, headers):
    app = make_app(tmp_path)
    client = app.test_client()
    task_id = client.post("/api/create", json={"topic": "mine"}).get_json()["task_id"]
    reply = client.post("/api/create", json={"topic": "theirs"}, headers=headers)
    assert reply.status_code == 403 and "error" in reply.get_json()
    reply = client.post(f"/api/task/{task_id}/cancel", headers=headers)
    assert reply.status_code == 403
    assert client.get(f"/api/task/{task_id}").get_json()["status"] == "queued"
    assert client.get("/api/tasks", headers=headers).status_code == 200  # reading is not refused


def test_same_origin_and_allowed_origins_may_post(tmp_path):
    app = make_app(tmp_path, allowed_hosts=("studio.lan",))
    client = app.test_client()
    for origin in ("http://localhost", "http://studio.lan:3000"):
        reply = client.post(
            "/api/create",
            json={"topic": "ok"},
            headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"},
        )
        assert reply.status_code == 202, origin


def test_token_flows_keep_working(tmp_path):
    app = make_app(tmp_path, api_token="s3cret")
    client = app.test_client()
    bearer = {"Authorization": "Bearer s3cret"}
    assert client.post("/api/create", json={"topic": "x"}).status_code == 401
    assert client.post("/api/create", json={"topic": "x"}, headers=bearer).status_code == 202
    same_origin = {**bearer, "Origin": "http://localhost"}
    assert client.post("/api/create", json={"topic": "x"}, headers=same_origin).status_code == 202
    client.set_cookie("reelsmith_token", "s3cret")  # what the page sets for <video>
    assert client.get("/api/tasks").status_code == 200
    # the token does not make a cross-site POST acceptable
    evil = {**bearer, "Origin": "http://evil.example"}
    assert client.post("/api/create", json={"topic": "x"}, headers=evil).status_code == 403


# -- SSRF: webhook targets --------------------------------------------------------


@pytest.mark.parametrize(
    "url, kind",
    [
        ("http://127.0.0.1:9000/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:8080/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://100.64.0.1/", "not a public"),
        ("http://localhost:9000/hook", "loopback"),
    ],
)
def test_webhooks_to_private_addresses_are_refused_at_create(tmp_path, url, kind):
    client = make_app(tmp_path).test_client()
    reply = client.post("/api/create", json={"topic": "x", "webhook_url": url})
    assert reply.status_code == 400
    body = reply.get_json()
    assert body["field"] == "webhook_url" and kind in body["error"]
    assert "WEBHOOK_ALLOW_PRIVATE" in body["error"]


def test_a_name_is_judged_by_what_it_resolves_to(tmp_path, monkeypatch):
    answers = {"hooks.example": ["93.184.216.34"], "sneaky.example": ["93.184.216.34", "10.0.0.7"]}

    def resolve(host, port):
        if host not in answers:
            raise OSError("Name or service not known")
        return answers[host]

    monkeypatch.setattr(netguard, "resolve", resolve)
    client = make_app(tmp_path).test_client()
    ok = client.post("/api/create", json={"topic": "x", "webhook_url": "https://hooks.example/a"})
    assert ok.status_code == 202
    for url, message in [
        ("http://sneaky.example/", "resolves to 10.0.0.7, which is a private address"),
        ("http://nowhere.example/", "does not resolve"),
        ("ftp://hooks.example/", "http:// or https://"),
        ("http://hooks.example:99999/", "port"),
    ]:
        reply = client.post("/api/create", json={"topic": "x", "webhook_url": url})
        assert reply.status_code == 400 and message in reply.get_json()["error"], url


def test_webhook_allow_private_lifts_the_check(tmp_path):
    client = make_app(tmp_path, webhook_allow_private=True).test_client()
    reply = client.post("/api/create", json={"topic": "x", "webhook_url": "http://127.0.0.1:9/h"})
    assert reply.status_code == 202


def test_a_dns_answer_that_changes_before_delivery_is_refused(tmp_path, monkeypatch):
    """Public when the task is created, loopback when the webhook is sent: the
    delivery checks the address it connects to and sends nothing."""
    calls = []

    def rebinding_resolve(host, port):
        calls.append(host)
        return ["93.184.216.34"] if len(calls) == 1 else ["127.0.0.1"]

    monkeypatch.setattr(netguard, "resolve", rebinding_resolve)
    release = threading.Event()
    app = make_app(tmp_path, runner=lambda task, report: release.wait(10) and {"ok": True})
    client = app.test_client()
    with WebhookReceiver() as hook:
        port = urlsplit(hook.url).port
        reply = client.post(
            "/api/create", json={"topic": "x", "webhook_url": f"http://rebind.example:{port}/h"}
        )
        assert reply.status_code == 202
        task_id = reply.get_json()["task_id"]
        release.set()
        store = app.extensions["reelsmith"].store
        wait_for(lambda: any("webhook" in (e["message"] or "") for e in store.events(task_id)))
        message = [e["message"] for e in store.events(task_id) if "webhook" in e["message"]][0]
        app.extensions["reelsmith"].shutdown(5)
        assert message.startswith("webhook refused:")
        assert "resolves to 127.0.0.1, which is a loopback address" in message
        assert hook.requests == []  # nothing reached the receiver
    assert calls == ["rebind.example", "rebind.example"]  # create, then delivery (not retried)


def test_delivery_connects_to_the_address_it_resolved(tmp_path, monkeypatch):
    """The control for the test above: with WEBHOOK_ALLOW_PRIVATE the same
    name, resolved by the same resolver to the receiver, is delivered."""
    monkeypatch.setattr(netguard, "resolve", lambda host, port: ["127.0.0.1"])
    app = make_app(tmp_path, runner=lambda task, report: {"ok": True}, webhook_allow_private=True)
    with WebhookReceiver() as hook:
        port = urlsplit(hook.url).port
        reply = app.test_client().post(
            "/api/create", json={"topic": "x", "webhook_url": f"http://rebind.example:{port}/h"}
        )
        task_id = reply.get_json()["task_id"]
        store = app.extensions["reelsmith"].store
        wait_for(
            lambda: any("webhook delivered" in (e["message"] or "") for e in store.events(task_id))
        )
        app.extensions["reelsmith"].shutdown(5)
        assert hook.requests[0]["body"]["id"] == task_id


# -- Headers ------------------------------------------------------------------------


def test_the_page_is_served_with_a_strict_csp_and_no_inline_code(tmp_path):
    client = make_app(tmp_path).test_client()
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for path in ("/api/tasks", "/static/app.js", "/api/nowhere"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path

    inline = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "script" and not attrs.get("src"):
                inline.append("inline <script>")
            if tag == "style" or "style" in attrs:
                inline.append(f"inline style on <{tag}>")
            inline.extend(f"{name} on <{tag}>" for name in attrs if name.startswith("on"))

    Finder().feed(page.get_data(as_text=True))
    assert inline == []
