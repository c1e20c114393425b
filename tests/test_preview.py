"""The preview server on its own (no build, no browser): what it serves, what
it refuses, and that its reload script reaches the browser only."""

from __future__ import annotations

import http.client
import os
import threading

import pytest

from reprobook import preview


@pytest.fixture
def served(tmp_path):
    site = tmp_path / "_site"
    (site / "chapters").mkdir(parents=True)
    (site / "index.html").write_text("<html><body><p>Home</p></body></html>")
    (site / "chapters/one.html").write_text("<html><body><p>One</p></body></html>")
    (site / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "secret.txt").write_text("not for the browser")
    os.symlink(tmp_path / "secret.txt", site / "leak.txt")
    os.symlink(tmp_path, site / "outside")
    state = preview.State()
    server = preview.serve(site, state, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, server.server_address[1], state
    server.shutdown()
    server.server_close()


def get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    out = resp.status, resp.getheader("Content-Type") or "", resp.read()
    conn.close()
    return out


def test_html_gets_the_reload_script_on_the_fly_only(served):
    site, port, _ = served
    status, kind, body = get(port, "/chapters/one.html")
    assert status == 200 and kind.startswith("text/html")
    assert body.endswith(preview.SCRIPT_TAG + b"</body></html>")
    assert get(port, "/")[2].count(preview.SCRIPT_TAG) == 1
    assert b"__reprobook" not in (site / "chapters/one.html").read_bytes()
    status, _, body = get(port, "/data.csv")
    assert (status, body) == (200, b"a,b\n1,2\n")  # other files untouched
    status, kind, body = get(port, "/__reprobook/preview.js")
    assert status == 200 and b"EventSource" in body and kind.startswith("text/javascript")


@pytest.mark.parametrize("path", ["/leak.txt", "/outside/secret.txt", "/../secret.txt",
                                  "/%2e%2e/secret.txt", "/chapters/../../secret.txt", "/chapters/"])
def test_nothing_outside_the_site_nor_listings(served, path):
    _, port, _ = served
    status, _, body = get(port, path)
    assert status == 404 and b"not for the browser" not in body


def test_events_stream_sends_builds_and_errors(served):
    _, port, state = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/__reprobook/events")
    resp = conn.getresponse()
    assert resp.getheader("Content-Type") == "text/event-stream"
    threading.Timer(0.2, state.publish, ("error-message", {"message": "x.qmd:3: <b>bad</b>"})).start()
    assert resp.readline() == b"event: error-message\n"
    assert b'"x.qmd:3: <b>bad</b>"' in resp.readline()
    conn.close()
    # A page opened while the build is broken gets the message at once.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/__reprobook/events")
    resp = conn.getresponse()
    assert resp.readline() == b"event: error-message\n"
    conn.close()
