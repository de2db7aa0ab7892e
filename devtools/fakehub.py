"""A fake Hugging Face Hub on 127.0.0.1 that serves local folders as model repositories, with faults on demand.

It answers the routes a download uses, with the Hub's headers:

- ``GET /api/models/{repo}/revision/{rev}``: ``{"id", "sha", "siblings": [{"rfilename"}]}``;
- ``GET /api/models/{repo}/tree/{rev}?recursive=true``: files with ``oid`` (git blob sha1), ``size``, and ``lfs``
  (``oid`` = sha256) for LFS files (``*.bin``, ``*.safetensors``, or 10 MiB and more, as on the Hub);
- ``HEAD``/``GET /{repo}/resolve/{rev}/{file}``: ``X-Repo-Commit``, ``ETag`` (LFS: ``X-Linked-Etag`` = sha256,
  ``X-Linked-Size``), ``Range`` → 206, optionally a 302 to ``/cdn/...`` for LFS files like the real Hub.

Faults (``hub.faults``, changeable while it runs): drop the connection after N bytes of a file, answer a list
of statuses (500, 429 …) before serving, serve corrupted bytes under the true checksum, ignore Range, throttle
to N bytes/s, advertise a wrong size. ``hub.requests`` records what was asked (method, path, Range, status).

Run by hand: ``python -m devtools.fakehub --repo owner/name=FOLDER [--port N] [--drop model.bin=BYTES] ...``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

LFS_MIN_SIZE = 10 * 1024 * 1024
LFS_SUFFIXES = (".bin", ".safetensors", ".onnx", ".pt")
CHUNK = 256 * 1024


@dataclass
class Faults:
    drop_after: dict[str, int] = field(default_factory=dict)  # file -> offset at which the connection is cut
    drop_times: int = 1  # how many transfers are cut (then files are served whole)
    statuses: list[int] = field(default_factory=list)  # answered, in order, to the next file GETs
    retry_after: int | None = None  # Retry-After on those answers
    corrupt: set[str] = field(default_factory=set)  # files served with a flipped byte (checksums stay true)
    ignore_range: bool = False
    rate: int | None = None  # bytes per second per transfer
    redirect: bool = False  # LFS files: 302 to /cdn/...
    advertise_size: dict[str, int] = field(default_factory=dict)  # file -> size claimed in listings and HEAD


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    range: str | None
    status: int


@dataclass(frozen=True)
class HubFile:
    name: str
    path: Path
    size: int
    sha256: str
    git_oid: str
    lfs: bool


class Repo:
    def __init__(self, name: str, folder: Path, commit: str = ""):
        self.name, self.folder = name, Path(folder)
        self.files: dict[str, HubFile] = {}
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            rel = path.relative_to(self.folder).as_posix()
            data_sha256, data_sha1 = hashlib.sha256(), hashlib.sha1()
            size = path.stat().st_size
            data_sha1.update(b"blob %d\0" % size)
            with open(path, "rb") as f:
                while block := f.read(1 << 22):
                    data_sha256.update(block)
                    data_sha1.update(block)
            lfs = rel.endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE
            self.files[rel] = HubFile(rel, path, size, data_sha256.hexdigest(), data_sha1.hexdigest(), lfs)
        self.commit = commit or hashlib.sha1("".join(f.sha256 for f in self.files.values()).encode()).hexdigest()

    def knows(self, revision: str) -> bool:
        return revision in ("main", self.commit)


class FakeHub:
    """``with FakeHub({"owner/name": folder}) as hub: hub.url`` — a Hub on 127.0.0.1 until the block ends.
    A repository may be ``(folder, commit)`` to serve it under a given commit id (e.g. a pinned one)."""

    def __init__(self, repos: dict[str, Path | tuple[Path, str]], port: int = 0):
        self.repos: dict[str, Repo] = {}
        for name, spec in repos.items():
            folder, commit = spec if isinstance(spec, tuple) else (spec, "")
            self.repos[name] = Repo(name, Path(folder), commit)
        self.faults = Faults()
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fakehub", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeHub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, method: str, path: str, rng: str | None, status: int) -> None:
        with self.lock:
            self.requests.append(Request(method, path, rng, status))

    def file_gets(self, name: str) -> list[Request]:
        """The GET requests for the body of ``name`` (on /resolve or /cdn)."""
        return [r for r in self.requests if r.method == "GET" and "/api/" not in r.path and r.path.endswith("/" + name)]

    def next_status(self) -> tuple[int | None, int | None]:
        with self.lock:
            if self.faults.statuses:
                return self.faults.statuses.pop(0), self.faults.retry_after
        return None, None

    def take_drop(self, name: str) -> int | None:
        with self.lock:
            at = self.faults.drop_after.get(name)
            if at is None or self.faults.drop_times <= 0:
                return None
            self.faults.drop_times -= 1
            return at


_RESOLVE = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_CDN = re.compile(r"^/cdn/([^/]+/[^/]+)/([0-9a-f]{40})/(.+)$")
_API = re.compile(r"^/api/models/([^/]+/[^/]+)/(revision|tree)/([^/]+)$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def _handler_for(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            logger.debug("fakehub: " + format, *args)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self._route(body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._route(body=True)

        # -- routing --------------------------------------------------------------------------------
        def _route(self, body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            try:
                if m := _API.match(path):
                    self._api(m.group(1), m.group(2), m.group(3))
                elif m := _RESOLVE.match(path):
                    self._file(m.group(1), m.group(2), m.group(3), body, cdn=False)
                elif m := _CDN.match(path):
                    self._file(m.group(1), m.group(2), m.group(3), body, cdn=True)
                else:
                    self._json(404, {"error": "Not Found"})
            except (ConnectionError, TimeoutError):  # the client went away (cancel, timeout)
                self.close_connection = True

        def _finish(self, status: int, headers: dict[str, str], data: bytes = b"", body: bool = True) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body and data:
                self.wfile.write(data)
            hub.record(self.command, unquote(urlsplit(self.path).path), self.headers.get("Range"), status)

        def _json(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self._finish(status, {"Content-Type": "application/json"}, data, self.command == "GET")

        def _repo(self, name: str, revision: str) -> Repo | None:
            repo = hub.repos.get(name)
            if repo is None:
                self._json(404, {"error": "Repository not found"})
                return None
            if not repo.knows(revision):
                self._json(404, {"error": f"Invalid rev id: {revision}"})
                return None
            return repo

        def _api(self, name: str, kind: str, revision: str) -> None:
            repo = self._repo(name, revision)
            if repo is None:
                return
            sizes = hub.faults.advertise_size
            if kind == "revision":
                self._json(200, {"id": name, "sha": repo.commit, "siblings": [{"rfilename": f} for f in repo.files]})
                return
            entries = []
            for f in repo.files.values():
                size = sizes.get(f.name, f.size)
                item: dict[str, object] = {"type": "file", "oid": f.git_oid, "size": size, "path": f.name}
                if f.lfs:
                    item["lfs"] = {"oid": f.sha256, "size": size, "pointerSize": 134}
                entries.append(item)
            self._json(200, entries)

        # -- files ----------------------------------------------------------------------------------
        def _file(self, name: str, revision: str, file: str, body: bool, cdn: bool) -> None:
            repo = self._repo(name, revision)
            if repo is None:
                return
            f = repo.files.get(file)
            if f is None:
                self._json(404, {"error": "Entry not found"})
                return
            size = hub.faults.advertise_size.get(f.name, f.size)
            meta = {"X-Repo-Commit": repo.commit, "Accept-Ranges": "bytes"}
            if f.lfs:
                meta.update({"ETag": f'"{f.sha256}"', "X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(size)})
            else:
                meta["ETag"] = f'"{f.git_oid}"'
            if f.lfs and hub.faults.redirect and not cdn:
                meta["Location"] = f"{hub.url}/cdn/{name}/{repo.commit}/{file}"
                self._finish(302, meta, b"", body)
                return
            if body:
                status, retry_after = hub.next_status()
                if status is not None:
                    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    self._finish(status, headers, b"injected fault", True)
                    return
            self._send(f, meta, size, body)

        def _send(self, f: HubFile, meta: dict[str, str], size: int, body: bool) -> None:
            start, end = 0, f.size - 1
            rng = self.headers.get("Range")
            status = 200
            if rng and not hub.faults.ignore_range:
                m = _RANGE.match(rng.strip())
                if m:
                    start = int(m.group(1))
                    end = min(int(m.group(2)), f.size - 1) if m.group(2) else f.size - 1
                    if start >= f.size:
                        self._finish(416, {**meta, "Content-Range": f"bytes */{f.size}"}, b"", body)
                        return
                    status = 206
                    meta["Content-Range"] = f"bytes {start}-{end}/{f.size}"
            length = end - start + 1
            headers = {
                **meta,
                "Content-Length": str(length if body else size),
                "Content-Type": "application/octet-stream",
            }
            if not body:
                self._finish(status, headers, b"", False)
                return
            drop = hub.take_drop(f.name)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            hub.record("GET", unquote(urlsplit(self.path).path), rng, status)
            self._stream(f, start, end, drop)

        def _stream(self, f: HubFile, start: int, end: int, drop: int | None) -> None:
            flip = f.size // 2 if f.name in hub.faults.corrupt else -1
            pos, began = start, time.monotonic()
            with open(f.path, "rb") as src:
                src.seek(start)
                while pos <= end:
                    n = min(CHUNK, end - pos + 1)
                    if drop is not None and drop > pos:
                        n = min(n, drop - pos)
                    elif drop is not None:  # cut the connection mid-file
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    rate = hub.faults.rate
                    if rate:  # small pieces, paced
                        n = min(n, max(1024, rate // 20))
                    chunk = bytearray(src.read(n))
                    if pos <= flip < pos + n:
                        chunk[flip - pos] ^= 0xFF
                    self.wfile.write(chunk)
                    pos += len(chunk)
                    if rate:
                        ahead = (pos - start) / rate - (time.monotonic() - began)
                        if ahead > 0:
                            time.sleep(ahead)

    return Handler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m devtools.fakehub", description=__doc__.splitlines()[0])
    p.add_argument("--repo", action="append", required=True, metavar="OWNER/NAME=FOLDER")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--drop", action="append", default=[], metavar="FILE=BYTES", help="cut the connection there once")
    p.add_argument("--corrupt", action="append", default=[], metavar="FILE")
    p.add_argument("--status", action="append", type=int, default=[], help="answer this status to the next file GET")
    p.add_argument("--ignore-range", action="store_true")
    p.add_argument("--rate", type=int, default=None, help="bytes per second")
    p.add_argument("--redirect", action="store_true", help="302 LFS files to /cdn/")
    args = p.parse_args(argv)
    repos = dict(item.split("=", 1) for item in args.repo)
    hub = FakeHub({k: Path(v) for k, v in repos.items()}, args.port)
    hub.faults.drop_after = {k: int(v) for k, v in (d.split("=", 1) for d in args.drop)}
    hub.faults.corrupt = set(args.corrupt)
    hub.faults.statuses = list(args.status)
    hub.faults.ignore_range, hub.faults.rate, hub.faults.redirect = args.ignore_range, args.rate, args.redirect
    hub.start()
    print(hub.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for r in hub.requests:
            print(f"{r.method} {r.path} range={r.range} -> {r.status}", flush=True)
        hub.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
