"""Issue 23, lesser items: configurations that were accepted silently,
inputs that gave a traceback, text that displays other than it reads.
Each is a real configuration or file and the real message."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from reprobook.editions import load_editions
from reprobook.errors import ConfigError
from reprobook.project import load_project

from .conftest import make_mini_project
from .test_security import assert_one_clear_message, edit, run_cli

EDITION = textwrap.dedent("""\
    editions:
      - number: {number}
        date: "2024-01-02"
        title: "Mini"
        status: {status}
        summary: "The fixture book."
    """)


@pytest.mark.parametrize("number, status, words", [
    ('"1.0"', "curent", ["edition 1.0 status 'curent'", "did you mean 'current'?"]),
    ('"1.0"', "superseeded", ["status 'superseeded'", "did you mean 'superseded'?"]),
    ("1.10", "current", ["edition number 1.1 is unquoted", 'number: "1.1"']),
])
def test_edition_typos_are_refused(tmp_path, number, status, words):
    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text(EDITION.format(number=number, status=status))
    with pytest.raises(ConfigError) as info:
        load_editions(root)
    for word in words:
        assert word in str(info.value), str(info.value)
    assert_one_clear_message(run_cli("build", "--root", root, "--renderer", "builtin"), *words)


def test_another_status_word_is_still_printed(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text(EDITION.format(number='"1.0"', status="draft"))
    assert load_editions(root)[0].status == "draft"


def test_an_empty_edition_list_is_refused(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text("editions: []\n")
    assert_one_clear_message(run_cli("build", "--root", root, "--renderer", "builtin"),
                             "editions.yml lists no editions", "delete editions.yml")


@pytest.mark.parametrize("timeout", ["-5", "0", "true"])
@pytest.mark.parametrize("where", ["top", "notebook"])
def test_a_timeout_must_be_seconds_above_zero(tmp_path, timeout, where):
    root = make_mini_project(tmp_path / "mini")
    if where == "top":
        edit(root / "reprobook.yml", "pdf: mini.pdf", f"pdf: mini.pdf\ntimeout: {timeout}")
        key = "reprobook.yml: timeout"
    else:
        edit(root / "reprobook.yml", "inputs: [beta]", f"inputs: [beta]\n    timeout: {timeout}")
        key = "notebooks[1].timeout"
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert key in str(info.value) and "above 0" in str(info.value)
    assert_one_clear_message(run_cli("check", "--root", root), key, "above 0")


@pytest.mark.parametrize("cell, code", [("a\x00b", "U+0000"), ("\u202e12", "U+202E"),
                                        ("x\u2066y", "U+2066"), ("bell\x07", "U+0007")])
def test_hidden_characters_in_a_text_cell_are_refused_naming_row_and_column(tmp_path, cell, code):
    import json

    from reprobook.validate import rehash

    root = make_mini_project(tmp_path / "mini")
    (root / "data/raw/beta.csv").write_bytes(
        b"id,amount,label\n1,7,plain\n2,8," + cell.encode("utf-8") + b"\n")
    descriptor_path = root / "data/raw/datapackage.json"
    descriptor = json.loads(descriptor_path.read_text())
    descriptor["resources"][1]["schema"]["fields"].append({"name": "label", "type": "string"})
    descriptor_path.write_text(json.dumps(descriptor, indent=2))
    rehash(load_project(root))
    result = run_cli("check", "--root", root)
    assert_one_clear_message(result, "data/raw/beta.csv, row 3, column 'label'", code,
                             "remove it from the raw file")


def test_a_table_too_long_for_a_page_is_refused_before_pandoc(tmp_path):
    import nbformat

    root = make_mini_project(tmp_path / "mini", chapters={
        "two": "# Two {#sec-two}\n\n{{< include ../figures/long.md >}}\n"})
    edit(root / "reprobook.yml", "inputs: [beta]",
         "inputs: [beta]\n    outputs: [figures/long.md, figures/long.csv]")
    nb_path = root / "notebooks/b.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = ("import pandas as pd\n"
                          "step.save_table(pd.DataFrame({'n': range(6000)}), 'long')")
    nbformat.write(nb, nb_path)
    result = run_cli("build", "--root", root, "--renderer", "builtin")
    assert_one_clear_message(result, "chapters/two.qmd:3", "included file ../figures/long.md is "
                             "too long to print in a page", "6,002 lines", "CSV download")
    assert not (root / "_site").exists()


@pytest.mark.parametrize("content, words", [
    (b"", ["b.ipynb", "is not a readable Jupyter notebook", "the file is empty"]),
    (b"{not json", ["b.ipynb", "is not a readable Jupyter notebook"]),
    (b"[]", ["b.ipynb", "is not a readable Jupyter notebook"]),
])
def test_an_unreadable_notebook_is_one_message(tmp_path, content, words):
    root = make_mini_project(tmp_path / "mini")
    (root / "notebooks/b.ipynb").write_bytes(content)
    assert_one_clear_message(run_cli("check", "--root", root), *words, "save it again")


def test_a_chapter_that_is_not_utf8_is_one_message(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    (root / "chapters/two.qmd").write_bytes(b"# Two {#sec-two}\n\nCaf\xe9 owners.\n")
    assert_one_clear_message(run_cli("check", "--root", root), "chapters/two.qmd:3",
                             "not valid UTF-8", "save the file as UTF-8")


def test_a_yaml_error_in_a_chapter_front_matter_names_the_chapter(tmp_path):
    root = make_mini_project(tmp_path / "mini", chapters={
        "two": "---\ntitle: [unclosed\n---\n\n# Two {#sec-two}\n\nText.\n"})
    result = run_cli("build", "--root", root, "--renderer", "builtin")
    assert_one_clear_message(result, "chapters/two.qmd: ", "YAML")


@pytest.mark.parametrize("address, words", [
    ("notanaddress", ["--scheduler notanaddress: not a scheduler address", "tcp://HOST:PORT"]),
    ("tls://127.0.0.1:8786", ["TLS schedulers need certificates", "tcp://HOST:PORT"]),
    ("tcp://127.0.0.1:99999", ["not a scheduler address"]),
])
def test_a_bad_scheduler_address_is_one_message_without_a_wait(tmp_path, address, words):
    import time

    pytest.importorskip("distributed")
    root = make_mini_project(tmp_path / "mini")
    start = time.monotonic()
    result = run_cli("build", "--root", root, "--renderer", "builtin", "--scheduler", address)
    assert_one_clear_message(result, *words)
    assert time.monotonic() - start < 30


def test_an_idle_connection_does_not_block_the_preview_server(tmp_path):
    """Issue 23: one idle connection blocked every other request (the
    preview server was single-threaded); its symlink refusals are in
    tests/test_preview.py."""
    import http.client
    import socket
    import threading

    from reprobook import preview

    site = tmp_path / "_site"
    site.mkdir()
    (site / "index.html").write_text("<html><body><p>Home</p></body></html>")
    server = preview.serve(site, preview.State(), 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    idle = socket.create_connection(("127.0.0.1", server.server_address[1]))
    idle.sendall(b"GET /index.html HTTP/1.1\r\n")  # a request never finished
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=3)
        conn.request("GET", "/index.html")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        idle.close()
        server.shutdown()
        server.server_close()


def _wait_for(predicate, seconds: float = 120) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_killed_build_or_verify_leaves_nothing_in_tmpdir_after_the_next_build(tmp_path):
    """Issue 23: a killed build left its kernel socket folder and the Jupyter
    connection file (with the kernel's key) in $TMPDIR, a killed verify its
    copy of the project, for good."""
    import os
    import signal
    import subprocess
    import sys

    import nbformat

    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    root = make_mini_project(tmp_path / "mini")
    nb_path = root / "notebooks/b.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = "import time\ntime.sleep(120)"
    nbformat.write(nb, nb_path)
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    cmd = [sys.executable, "-m", "reprobook", "build", "--root", str(root), "--renderer", "builtin"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: list(tmpdir.glob("reprobook-kernel-*/kernel.json")))
        key = json.loads(next(tmpdir.glob("reprobook-kernel-*/kernel.json")).read_text())["key"]
        assert key
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert list(tmpdir.glob("reprobook-kernel-*"))  # what the kill left
    # nowhere else: the connection file is not in Jupyter's runtime folder
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = Path(jupyter_runtime_dir())
    assert not [p for p in runtime.glob("kernel-*.json") if key in p.read_text(errors="replace")]

    nb.cells[2].source = "pass"
    nbformat.write(nb, nb_path)
    # a verify killed while it copies and rebuilds
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    nb.cells[2].source = "import time\ntime.sleep(120)"
    nbformat.write(nb, nb_path)
    (root / "chapters/two.qmd").write_text((root / "chapters/two.qmd").read_text())
    verify = subprocess.Popen([sys.executable, "-m", "reprobook", "verify", "--root", str(root)],
                              env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: list(tmpdir.glob("reprobook-kernel-*/kernel.json"))
                  and list((root / ".reprobook").glob("verify-*/project")))
    finally:
        os.killpg(verify.pid, signal.SIGKILL)
        verify.wait()
    assert list((root / ".reprobook").glob("verify-*"))
    nb.cells[2].source = "pass"
    nbformat.write(nb, nb_path)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmpdir.iterdir()) == []
    assert list((root / ".reprobook").glob("verify-*")) == []


def test_kernels_run_under_the_pinned_locale_and_the_site_is_world_readable(tmp_path, monkeypatch):
    """Issue 23 (done on main, checked here on a mini book): under
    LC_ALL=tr_TR.UTF-8 the kernel still runs under C.UTF-8 (GDAL wrote ~60
    sorting errors into the maps page under tr_TR), and under umask 077 the
    published site is readable by a web server running as another user."""
    import os
    import stat

    import nbformat

    from reprobook.build import build

    root = make_mini_project(tmp_path / "mini")
    nb_path = root / "notebooks/b.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = ("import locale, os\n"
                          "step.fact('b.locale', os.environ.get('LC_ALL', '') + ' ' + "
                          "locale.setlocale(locale.LC_COLLATE, ''), unit='text')")
    nbformat.write(nb, nb_path)
    monkeypatch.setenv("LC_ALL", "tr_TR.UTF-8")
    monkeypatch.setenv("LANG", "tr_TR.UTF-8")
    old = os.umask(0o077)
    try:
        result = build(load_project(root), renderer="builtin")
    finally:
        os.umask(old)
    assert result.facts["b.locale"]["value"] == "C.UTF-8 C.UTF-8"
    site = root / "_site"
    modes = {stat.S_IMODE(p.stat().st_mode) for p in site.rglob("*")}
    assert modes <= {0o644, 0o755} and stat.S_IMODE(site.stat().st_mode) == 0o755
