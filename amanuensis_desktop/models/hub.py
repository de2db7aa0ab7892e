"""The few Hugging Face Hub routes a model download needs, over httpx, with bounded retries.

- ``GET {endpoint}/api/models/{repo}/revision/{rev}``: the commit a revision points to, and its files;
- ``GET {endpoint}/api/models/{repo}/tree/{commit}?recursive=true``: each file's size, git blob id, and for
  LFS files their sha256;
- ``HEAD {endpoint}/{repo}/resolve/{commit}/{file}``: ``X-Repo-Commit``, ``ETag``/``X-Linked-Etag`` (the
  sha256 of an LFS file, the git blob id of a small one), ``X-Linked-Size``, maybe a redirect to a CDN.

``HF_ENDPOINT`` (a mirror) is read at every call; proxies come from the environment (``trust_env``) and TLS
certificates from the system store (``truststore``).
"""

from __future__ import annotations

import logging
import os
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

import httpx

from .errors import DownloadCancelled, DownloadError

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
USER_AGENT = "amanuensis-desktop"
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

T = TypeVar("T")


def endpoint() -> str:
    """The Hub (or mirror) to use: ``$HF_ENDPOINT`` read now, else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def make_client(timeout: float = 30.0) -> httpx.Client:
    """An httpx client that honours proxy variables and the system certificate store."""
    verify: ssl.SSLContext | bool = True
    try:
        import truststore

        verify = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except ImportError:  # pragma: no cover - truststore is a dependency; certifi's bundle is the fallback
        logger.debug("truststore is not installed; using certifi's certificates")
    headers = {"User-Agent": USER_AGENT}
    token = os.environ.get("HF_TOKEN")
    if token:  # gated repositories; httpx drops it on redirects to another host (the CDN)
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(
        trust_env=True,
        verify=verify,
        headers=headers,
        timeout=httpx.Timeout(timeout, read=max(timeout, 60.0)),
        follow_redirects=True,
    )


class RetryableStatus(Exception):
    """A 429/5xx answer worth retrying; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, status: int, retry_after: float | None):
        super().__init__(f"HTTP {status}")
        self.status, self.retry_after = status, retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in a row without progress before giving up
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Exponential backoff with jitter for attempt 1, 2, …; a server's Retry-After wins when larger."""
        wait = min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * (0.8 + 0.4 * random.random())
        if hint is not None:
            wait = max(wait, min(hint, self.max_delay))
        return wait


def retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def check_status(response: httpx.Response, what: str) -> None:
    """Raise RetryableStatus for 429/5xx, DownloadError for other failures; return on success."""
    status = response.status_code
    if status < 400:
        return
    if status in RETRY_STATUS:
        raise RetryableStatus(status, retry_after(response))
    if status in (401, 403):
        raise DownloadError(f"The Hub refused access to {what} (HTTP {status}); it may be private or gated.")
    if status == 404:
        raise DownloadError(f"The Hub has no {what} (HTTP 404); check the repository name and revision.")
    raise DownloadError(f"The Hub answered HTTP {status} for {what}.")


def with_retries(
    action: Callable[[], T],
    what: str,
    policy: RetryPolicy,
    cancel: threading.Event | None = None,
    progressed: Callable[[], bool] = lambda: False,
) -> T:
    """Run ``action``; on connection errors and 429/5xx wait and try again, at most ``policy.attempts`` times
    in a row without progress (``progressed()`` says whether the last try moved forward)."""
    failures = 0
    while True:
        try:
            return action()
        except (httpx.TransportError, RetryableStatus) as exc:
            failures = 1 if progressed() else failures + 1
            reason = describe(exc)
            if failures >= policy.attempts:
                raise DownloadError(f"Could not download {what}: {reason} ({failures} tries).") from exc
            hint = exc.retry_after if isinstance(exc, RetryableStatus) else None
            wait = policy.delay(failures, hint)
            logger.warning(
                "%s: %s; retrying in %.1f s (try %d of %d)", what, reason, wait, failures + 1, policy.attempts
            )
            if cancel is not None and cancel.wait(wait):
                raise DownloadCancelled(f"Download of {what} cancelled.") from exc
            if cancel is None:
                time.sleep(wait)


def describe(exc: BaseException) -> str:
    if isinstance(exc, RetryableStatus):
        return "the server is busy" if exc.status == 429 else f"server error {exc.status}"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect to the Hub"
    if isinstance(exc, httpx.TimeoutException):
        return "the connection timed out"
    if isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)):
        return "the connection was lost"
    return type(exc).__name__


# -- metadata ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    git_oid: str = ""  # git blob sha1
    sha256: str = ""  # LFS files only

    @property
    def is_lfs(self) -> bool:
        return bool(self.sha256)


@dataclass(frozen=True)
class Snapshot:
    repo: str
    commit: str
    files: dict[str, RemoteFile]


def resolve_url(base: str, repo: str, commit: str, name: str) -> str:
    return f"{base}/{repo}/resolve/{commit}/{quote(name)}"


def snapshot(
    client: httpx.Client,
    base: str,
    repo: str,
    revision: str,
    policy: RetryPolicy,
    cancel: threading.Event | None = None,
) -> Snapshot:
    """The commit ``revision`` points to and the files of that commit (with sizes and checksums)."""

    def info() -> dict:
        r = client.get(f"{base}/api/models/{repo}/revision/{quote(revision, safe='')}")
        check_status(r, f"repository '{repo}' at revision '{revision}'")
        return r.json()

    def tree(commit: str) -> list:
        r = client.get(f"{base}/api/models/{repo}/tree/{commit}", params={"recursive": "true"})
        check_status(r, f"file list for '{repo}'")
        return r.json()

    try:
        data = with_retries(info, f"'{repo}'", policy, cancel)
        commit = str(data.get("sha") or revision)
        entries = with_retries(lambda: tree(commit), f"'{repo}'", policy, cancel)
    except ValueError as exc:  # JSON
        raise DownloadError(f"The Hub's answer about '{repo}' is not valid JSON; is HF_ENDPOINT a Hub?") from exc
    files: dict[str, RemoteFile] = {}
    for item in entries:
        if not isinstance(item, dict) or item.get("type") != "file":
            continue
        lfs = item.get("lfs") or {}
        files[str(item["path"])] = RemoteFile(
            name=str(item["path"]),
            size=int(lfs.get("size") or item.get("size") or 0),
            git_oid=str(item.get("oid", "")),
            sha256=str(lfs.get("oid", "")),
        )
    if not files:  # an older or minimal Hub: fall back to the revision's sibling names (sizes come from HEAD)
        for sib in data.get("siblings", []):
            name = str(sib.get("rfilename", ""))
            if name:
                files[name] = RemoteFile(name=name, size=-1)
    return Snapshot(repo=repo, commit=commit, files=files)


def _strip_etag(value: str) -> str:
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def head(
    client: httpx.Client, url: str, known: RemoteFile, policy: RetryPolicy, cancel: threading.Event | None = None
) -> RemoteFile:
    """Complete ``known`` with what HEAD says (size, sha256 of LFS files, git id of small ones)."""

    def ask() -> httpx.Response:
        r = client.head(url, follow_redirects=False)  # the LFS headers are on the first answer (maybe a 302)
        check_status(r, f"file '{known.name}'")
        return r

    r = with_retries(ask, f"'{known.name}'", policy, cancel)
    linked = _strip_etag(r.headers.get("X-Linked-Etag", ""))
    etag = _strip_etag(r.headers.get("ETag", ""))
    size_text = r.headers.get("X-Linked-Size") or (r.headers.get("Content-Length") if r.status_code < 300 else None)
    size = int(size_text) if size_text and size_text.isdigit() else known.size
    sha256 = known.sha256 or (linked if _is_hex(linked, 64) else (etag if _is_hex(etag, 64) else ""))
    git_oid = known.git_oid or (etag if _is_hex(etag, 40) else "")
    return RemoteFile(name=known.name, size=size, git_oid=git_oid, sha256=sha256)


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdef" for c in text.lower())
