"""`reprobook preview`: serve the published site on 127.0.0.1, rebuild when a
source changes, and reload the page open in the browser.

- Watching is polling: every source file of the project (the set the
  incremental build fingerprints: chapters, notebooks, data, configuration,
  the report's own modules) is stat-ed every POLL_S seconds. A book has
  hundreds of files, not hundreds of thousands, so a scan costs a few
  milliseconds; it needs no extra dependency, behaves the same on every
  filesystem (network mounts, containers, editors that save by rename) and
  a save is seen within POLL_S.
- A rebuild is the ordinary incremental build (only what the change needs
  is recomputed), in this process, with the built-in renderer and without
  the PDF, so a prose edit reaches the browser in well under a second.
- The browser is told over server-sent events which published files
  changed; a page reloads when its own file (or a shared asset) changed,
  keeping its scroll position. A failed build's message is shown over the
  page (the last good page stays); the next good build removes it.
- The reload script is served only by this server and added to HTML
  responses as they are sent: nothing of it is written into the site.
"""

from __future__ import annotations

import json
import mimetypes
import os
import posixpath
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from . import incremental
from .errors import BuildError

POLL_S = 0.1
PREFIX = "/__reprobook/"
SCRIPT_TAG = b'<script src="/__reprobook/preview.js"></script>'
KEEPALIVE_S = 15

# The browser side: listen for builds, reload when this page's files
# changed (scroll kept through sessionStorage), show a failed build's
# message over the page (as text: never parsed as HTML).
CLIENT_JS = r"""(() => {
  const here = (() => { let p = decodeURIComponent(location.pathname).replace(/^\/+/, "");
    return (p === "" || p.endsWith("/")) ? p + "index.html" : p; })();
  const key = "reprobook-preview-scroll:" + here;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    const [x, y] = JSON.parse(saved);
    const restore = () => window.scrollTo(x, y);
    if (document.readyState === "complete") restore(); else addEventListener("load", restore);
  }
  function overlay(message) {
    let box = document.getElementById("reprobook-preview-error");
    if (message === null) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "reprobook-preview-error";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;" +
        "z-index:2147483647;background:#fff4f4;color:#600;border-top:4px solid #b00;" +
        "padding:1em 1.5em;font:14px/1.4 monospace;box-shadow:0 -2px 12px rgba(0,0,0,.3)";
      const title = document.createElement("strong");
      title.textContent = "Build failed; this is the last good page. Fix the source and save.";
      const pre = document.createElement("pre");
      pre.style.cssText = "white-space:pre-wrap;margin:.5em 0 0";
      box.append(title, pre);
      document.body.append(box);
    }
    box.querySelector("pre").textContent = message;
  }
  const events = new EventSource("/__reprobook/events");
  events.addEventListener("error-message", e => overlay(JSON.parse(e.data).message));
  events.addEventListener("built", e => {
    overlay(null);
    const changed = JSON.parse(e.data).changed;
    // this page, or what pages load (styles, scripts, images, fonts); not
    // the PDF or data files, which no page shows
    if (changed.some(f => f === here || /\.(css|js|svg|png|jpe?g|gif|webp|avif|woff2?)$/i.test(f))) {
      sessionStorage.setItem(key, JSON.stringify([scrollX, scrollY]));
      location.reload();
    }
  });
})();
"""


WAITING = (b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>No site yet'
           b'</title></head><body><p>No site has been built yet; this page reloads when one is.'
           b'</p></body></html>')


class State:
    """The last build's outcome, and a condition the event streams wait on."""

    def __init__(self):
        self.cond = threading.Condition()
        self.serial = 0
        self.event: tuple[str, dict] | None = None  # ("built", {...}) or ("error-message", {...})
        self.error: str | None = None

    def publish(self, name: str, data: dict) -> None:
        with self.cond:
            self.serial += 1
            self.event = (name, data)
            self.error = data["message"] if name == "error-message" else None
            self.cond.notify_all()


def inject(html: bytes) -> bytes:
    """The page with the reload script before its last </body>."""
    at = html.rfind(b"</body>")
    return html[:at] + SCRIPT_TAG + html[at:] if at >= 0 else html + SCRIPT_TAG


def make_handler(site: Path, state: State):
    class Handler(BaseHTTPRequestHandler):
        server_version = "reprobook-preview"

        def log_message(self, *args) -> None:
            pass

        def do_HEAD(self) -> None:
            self.do_GET(body=False)

        def do_GET(self, body: bool = True) -> None:
            path = unquote(urlsplit(self.path).path)
            if path == PREFIX + "preview.js":
                return self._send(CLIENT_JS.encode(), "text/javascript; charset=utf-8", body)
            if path == PREFIX + "events":
                return self._events()
            file = self._resolve(path)
            if file is None and path in ("/", "/index.html"):
                # No site yet (the first build failed): a page to show the error on.
                return self._send(inject(WAITING), "text/html; charset=utf-8", body)
            if file is None:
                return self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            if file.is_dir():  # a folder without index.html: no listings
                if not path.endswith("/"):
                    self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                    self.send_header("Location", path + "/")
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                return self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            try:
                data = file.read_bytes()
            except OSError:  # swapped out by a build between resolve and read
                return self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if kind == "text/html":
                data, kind = inject(data), "text/html; charset=utf-8"
            self._send(data, kind, body)

        def _resolve(self, path: str) -> Path | None:
            """The published file for a URL path; None for anything outside the
            site, also through a symbolic link."""
            parts = [p for p in posixpath.normpath(path).split("/") if p not in ("", ".")]
            if ".." in parts or any("\0" in p or "\\" in p for p in parts):
                return None
            root = Path(os.path.realpath(site))
            target = root.joinpath(*parts)
            if target.is_dir() and (target / "index.html").is_file():
                if path.endswith("/") or not parts:
                    target = target / "index.html"
            real = Path(os.path.realpath(target))
            if real != root and root not in real.parents:
                return None
            return real if real.exists() else None

        def _send(self, data: bytes, kind: str, body: bool = True) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")  # always the newest build
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            with state.cond:
                seen = state.serial
                error = state.error
            try:
                if error is not None:  # a page opened while the build is broken
                    self._event("error-message", {"message": error})
                while True:
                    with state.cond:
                        state.cond.wait_for(lambda: state.serial != seen, timeout=KEEPALIVE_S)
                        news = state.event if state.serial != seen else None
                        seen = state.serial
                    if news is None:
                        self.wfile.write(b": keep-alive\n\n")
                        self.wfile.flush()
                    else:
                        self._event(*news)
            except (BrokenPipeError, ConnectionResetError, OSError):
                return  # the page went away

        def _event(self, name: str, data: dict) -> None:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

    return Handler


def source_state(root: Path, site_dir: str) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every source file a build reads (what
    incremental.fingerprint digests)."""
    skip = incremental.NOT_SOURCE | {site_dir, site_dir + ".previous"}
    out = {}
    for path in incremental._files(root, skip):
        if path.parent == root / "figures" and path.name != "README.md":
            continue  # generated by the notebooks
        try:
            stat = path.stat()
        except OSError:
            continue
        out[str(path.relative_to(root))] = (stat.st_mtime_ns, stat.st_size)
    return out


def published_files(work_dir: Path) -> dict[str, str]:
    """sha256 of every published file as the last build recorded them."""
    try:
        return json.loads((work_dir / incremental.STATE).read_text()).get("files", {})
    except (OSError, ValueError):
        return {}


class Previewer:
    """Watch the project and rebuild; tell the browsers what changed."""

    def __init__(self, root: Path, build: Callable, say: Callable[[str], None], state: State,
                 then: Callable | None = None):
        self.root = root
        self.build = build  # build(project) -> BuildResult, raising BuildError
        self.then = then  # a slower build after the page is shown (the PDF), or None
        self.say = say
        self.state = state
        self.stop = threading.Event()

    def rebuild(self) -> bool:
        if not self._run(self.build, "rebuilt"):
            return False
        if self.then is not None:
            return self._run(self.then, "PDF rebuilt")
        return True

    def _run(self, build: Callable, done: str) -> bool:
        from .project import load_project

        started = time.monotonic()
        try:
            project = load_project(self.root)  # the configuration may have changed too
            before = published_files(project.work_dir)
            build(project)
        except BuildError as exc:
            self.say(f"build failed ({time.monotonic() - started:.1f}s); the browser shows why, "
                     f"the last good site stays:\n{exc}")
            self.state.publish("error-message", {"message": str(exc)})
            return False
        except Exception as exc:  # noqa: BLE001 - an engine bug must not end the preview
            message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.say(f"build failed with an internal error ({message}); please report it")
            self.state.publish("error-message", {"message": f"internal error: {message}"})
            return False
        after = published_files(project.work_dir)
        changed = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
        self.say(f"{done} in {time.monotonic() - started:.2f}s: {len(changed)} published "
                 f"file(s) changed")
        self.state.publish("built", {"changed": changed})
        return True

    def watch(self, site_dir: str) -> None:
        seen = source_state(self.root, site_dir)
        while not self.stop.wait(POLL_S):
            now = source_state(self.root, site_dir)
            if now == seen:
                continue
            edited = sorted(f for f in set(now) | set(seen) if now.get(f) != seen.get(f))
            self.say(f"changed: {', '.join(edited[:5])}{' ...' if len(edited) > 5 else ''}")
            seen = now
            self.rebuild()
            # Saves made during the build start the next one at once.


def serve(site: Path, state: State, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(site, state))
    server.daemon_threads = True  # open event streams do not keep the process alive
    return server
