"""The status-page check, against a local HTTP server only (never the real page).

Up, degraded, down, malformed JSON, an answer that is not a summary, an HTTP error, a slow server (timeout)
and a refused connection: every failure is ``unknown`` with a reason, never an exception or a hang.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from liferaft.core.diagnose.status_page import StatusReport, check_status, parse_summary

RELEVANT = ("chatgpt", "file", "upload")


def _summary(indicator: str, description: str, components: list[tuple[str, str]] | None = None,
             incidents: list[dict[str, str]] | None = None) -> bytes:
    return json.dumps({
        "page": {"id": "x", "name": "Vendor", "url": "https://status.example"},
        "status": {"indicator": indicator, "description": description},
        "components": [{"id": str(i), "name": name, "status": status}
                       for i, (name, status) in enumerate(components or [])],
        "incidents": incidents or [],
        "scheduled_maintenances": [],
    }).encode()


ROUTES: dict[str, tuple[int, bytes]] = {
    "/up.json": (200, _summary("none", "All Systems Operational",
                               [("ChatGPT", "operational"), ("File uploads", "operational")])),
    "/degraded.json": (200, _summary(
        "minor", "Partially Degraded Service",
        [("ChatGPT", "operational"), ("File uploads", "partial_outage"), ("Sora", "major_outage")],
        [{"name": "Elevated errors on file uploads", "status": "investigating", "impact": "minor"},
         {"name": "Old resolved thing", "status": "resolved", "impact": "major"}])),
    "/down.json": (200, _summary("major", "Major Service Outage", [("ChatGPT", "major_outage")],
                                 [{"name": "ChatGPT unavailable", "status": "identified", "impact": "critical"}])),
    "/component-only.json": (200, _summary("none", "All Systems Operational",
                                           [("Code Interpreter / file uploads", "degraded_performance")])),
    "/other-component.json": (200, _summary("none", "All Systems Operational", [("Sora", "major_outage")])),
    "/malformed.json": (200, b'{"status": {"indicator": "none", '),
    "/not-json.html": (200, b"<html><body>Status</body></html>"),
    "/list.json": (200, b"[1, 2, 3]"),
    "/weird.json": (200, json.dumps({"status": {"indicator": "purple"}}).encode()),
    "/error.json": (503, b"Service Unavailable"),
}


class _Handler(BaseHTTPRequestHandler):
    release = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/slow.json":
            self.release.wait(5)  # longer than any timeout used here; let go when the test ends
            code, body = ROUTES["/up.json"]
        elif self.path == "/trickle.json":  # answers at once, then sends a byte every 0.2 s
            body = ROUTES["/up.json"][1]
            try:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for byte in body:
                    if self.release.wait(0.2):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                pass
            return
        elif self.path == "/trickle-headers.json":  # the status line and headers, one byte a second
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\n"
            try:
                for byte in head:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    if self.release.wait(1.0):
                        return
            except OSError:
                pass
            self.close_connection = True
            return
        else:
            code, body = ROUTES.get(self.path, (404, b"not found"))
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the timeout test)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server is reached directly, whatever proxy the machine running the tests sets."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        _Handler.release.set()
        httpd.shutdown()
        httpd.server_close()


def _check(url: str, timeout: float = 2.0) -> StatusReport:
    report = check_status(url, timeout=timeout, components=RELEVANT)
    assert report.state in ("up", "degraded", "down", "unknown")
    assert report.checked_at > 0
    return report


def test_up(server: str) -> None:
    report = _check(f"{server}/up.json")
    assert report.state == "up"
    assert report.description == "All Systems Operational"
    assert report.incidents == [] and report.components == [] and report.reason == ""
    assert report.summary().startswith("up: All Systems Operational")


def test_degraded_lists_active_incidents_and_relevant_components(server: str) -> None:
    report = _check(f"{server}/degraded.json")
    assert report.state == "degraded"
    assert report.incidents == ["Elevated errors on file uploads (minor, investigating)"]
    assert report.components == ["File uploads: partial outage"]  # Sora is not ours to worry about
    assert "Elevated errors on file uploads" in report.summary()


def test_down(server: str) -> None:
    report = _check(f"{server}/down.json")
    assert report.state == "down"
    assert report.components == ["ChatGPT: major outage"]
    assert report.incidents and report.incidents[0].startswith("ChatGPT unavailable")


def test_a_relevant_component_outranks_a_green_indicator(server: str) -> None:
    assert _check(f"{server}/component-only.json").state == "degraded"
    assert _check(f"{server}/other-component.json").state == "up"


@pytest.mark.parametrize(("path", "reason"), [
    ("/malformed.json", "not JSON"),
    ("/not-json.html", "not JSON"),
    ("/list.json", "summary"),
    ("/weird.json", "indicator"),
    ("/error.json", "HTTP 503"),
    ("/missing.json", "HTTP 404"),
])
def test_bad_answers_are_unknown(server: str, path: str, reason: str) -> None:
    report = _check(f"{server}{path}")
    assert report.state == "unknown"
    assert reason in report.reason
    assert report.summary().startswith("unknown: check the status page yourself")


def test_slow_server_times_out(server: str) -> None:
    report = _check(f"{server}/slow.json", timeout=0.5)  # the server answers after 5 s: "up", had we waited
    assert report.state == "unknown"
    assert "no answer within 0.5 s" in report.reason


def test_trickling_server_is_cut_at_the_deadline(server: str) -> None:
    report = _check(f"{server}/trickle.json", timeout=0.6)  # the whole body takes 0.2 s a byte
    assert report.state == "unknown" and "no answer within" in report.reason


def test_headers_trickled_a_byte_a_second_are_cut_at_the_deadline(server: str) -> None:
    """A socket timeout restarts with every byte; the deadline covers connecting, the headers and the body.

    The timeout (3 s) is longer than the gap between two bytes (1 s), so only a deadline over the whole
    request stops it: with a socket timeout alone the 230-byte head would take four minutes."""
    start = time.monotonic()
    report = _check(f"{server}/trickle-headers.json", timeout=3.0)
    elapsed = time.monotonic() - start
    assert report.state == "unknown" and "no answer within 3 s" in report.reason
    assert elapsed < 60, elapsed


def test_refused_connection() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now.
    report = _check(f"http://127.0.0.1:{port}/summary.json", timeout=1.0)
    assert report.state == "unknown"
    assert "refused" in report.reason


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "", "not a url"])
def test_only_http_urls_are_fetched(url: str) -> None:
    report = check_status(url, timeout=0.5)
    assert report.state == "unknown" and "http" in report.reason


def test_parse_summary_directly() -> None:
    data = json.loads(_summary("critical", "Major outage"))
    assert parse_summary(data).state == "down"
    assert parse_summary({"status": {"indicator": "none"}}).description == "all systems operational"
    maintenance = {"status": {"indicator": "none", "description": "ok"}, "scheduled_maintenances": [
        {"name": "Database upgrade", "status": "in_progress", "impact": "maintenance"},
        {"name": "Later", "status": "scheduled", "impact": "maintenance"}]}
    report = parse_summary(maintenance)
    assert report.state == "degraded" and report.incidents == ["Database upgrade (maintenance, in progress)"]
    assert report.to_json()["state"] == "degraded"
