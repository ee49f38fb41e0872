"""Check registry credentials the way a container runtime logs in: `GET /v2/`, then follow `WWW-Authenticate`.

The handshake follows containers/image docker/docker_client.go (detectProperties/ping: `GET https://HOST/v2/`,
plain HTTP only for an insecure registry; setupRequestAuth/getBearerToken: Basic on the registry itself, or a GET
to the Bearer realm with `account`, `service` and the challenge's `scope`, Basic credentials, then the `token` or
`access_token` of the JSON answer) and distribution's registry/client/auth/challenge/authchallenge.go (one
challenge per header line).

Safety rules on top of that handshake (containers/image sends credentials to any realm, even over plain HTTP, and
skips TLS verification for it):

* credentials go only to the registry's own host and to the realm it names;
* only over HTTPS with verified certificates, unless the registry is configured `insecure`;
* Basic credentials never go to a realm on another host over plain HTTP, not even for an insecure registry;
* no redirects are followed, so credentials cannot be bounced elsewhere;
* no credential or token appears in a Result (every detail is scrubbed), and requests never reads ~/.netrc.

Libraries considered first: oras-py (oras/auth/token.py) sends Basic credentials to whatever realm the registry
names with no scheme or host check, and turns every non-200 token answer into "no token", so a rejection cannot be
told from an outage; python-dxf (dxf/__init__.py, DXFBase.authenticate) rewrites the realm to https but needs a
`scope` in the challenge (a `GET /v2/` challenge has none) and a repository. Neither takes a per-registry extra CA.
Both are built on requests, which this module uses directly.
"""

import base64
import contextlib
import functools
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from ..checks.problems import scrub
from ..credentials.servers import DOCKER_HUB_KEY
from .challenge import MAX_CHALLENGE_BYTES, MAX_CHALLENGES, Challenge, ignored, parse_challenges

ACCEPTED = "accepted"
REJECTED = "rejected"
UNREACHABLE = "unreachable"

DEFAULT_TIMEOUT = 10.0
"""Seconds one registry may take in all (ping, token, authenticated ping); registries are checked in parallel."""
MAX_TIMEOUT = 600.0
"""The longest `verify --timeout`: ten minutes per registry is a hang, not a slow registry."""

DOCKER_HUB_API = "registry-1.docker.io"
"""Where Docker Hub's key is checked: the key names the v1 index, the v2 API lives here (containers/image
docker_client.go: dockerRegistry/dockerHostname)."""

_USER_AGENT = "registry-credentials-verify"
MAX_TOKEN_BYTES = 1 << 20
"""Largest token answer read (containers/image iolimits.MaxAuthTokenBodySize is 1 MiB too)."""


@dataclass(frozen=True)
class Target:
    """One registry to check: who it is in messages, its `auths` key, and how to reach it."""

    label: str
    key: str
    username: str
    password: str = field(repr=False)
    ca_file: Optional[str] = None
    insecure: bool = False


@dataclass(frozen=True)
class Result:
    """The outcome for one registry; `detail` says what answered what, never a credential."""

    label: str
    key: str
    endpoint: str
    username: str
    outcome: str
    detail: str


def endpoint_of(key: str) -> str:
    """The `host[:port]` whose `/v2/` is checked for an `auths` key (Docker Hub's keys go to its API host)."""
    if key == DOCKER_HUB_KEY:
        return DOCKER_HUB_API
    host = key.split("/", 1)[0]
    return DOCKER_HUB_API if host == "docker.io" else host


class _Refused(Exception):
    """The check itself refused a step (unsafe realm, malformed answer): the credentials stay unchecked."""


class _Watch:
    """The sockets one check has opened, so that check_all can cut the check off at its deadline wherever it blocks.

    Timeouts bound each socket operation, not a check: a server that answers a byte at a time keeps every read
    inside its timeout for as long as it likes. Shutting the sockets down wakes the check's thread out of any
    read, and a connection opened after that is closed at once, before a byte (or a credential) is sent.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        self._cancelled = False

    def track(self, sock: socket.socket) -> socket.socket:
        """Remember a new connection's socket; refuse it once the check was cancelled."""
        with self._lock:
            if not self._cancelled:
                self._sockets.append(sock)
                return sock
        sock.close()
        raise OSError("the check's deadline has passed")

    def cancel(self) -> None:
        """Cut every connection of the check off, now and from now on."""
        with self._lock:
            self._cancelled = True
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


_CURRENT = threading.local()
"""The _Watch of the check this thread runs (every check runs in a thread of its own)."""
_ACTIVE: Dict[threading.Thread, _Watch] = {}
_ACTIVE_LOCK = threading.Lock()


def _tracked(sock: socket.socket) -> socket.socket:
    watch = getattr(_CURRENT, "watch", None)
    return watch.track(sock) if watch is not None else sock


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:  # urllib3 connection.py: the socket the request's bytes go through
        return _tracked(super()._new_conn())


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def _new_conn(self) -> socket.socket:  # TLS wraps this socket: shutting it down ends the TLS stream too
        return _tracked(super()._new_conn())


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(HTTPAdapter):
    """Connections a check's _Watch can cut off, direct and via a proxy; for HTTPS, a prepared TLS context (the
    default bundle, plus a registry's CA file) unless the registry is insecure."""

    def __init__(self, context: Optional[ssl.SSLContext]) -> None:
        self._context = context
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy, **kwargs):  # type: ignore[no-untyped-def]
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS managers have pools of their own
            manager.pool_classes_by_scheme = _POOLS
        return manager

    def cert_verify(self, conn, url, verify, cert):  # type: ignore[no-untyped-def]
        super().cert_verify(conn, url, verify, cert)
        if self._context is not None:
            # requests points every connection at certifi's file, and urllib3 would re-load it into the context
            # per connection (tens of ms of CPU under the GIL: 50 registries took 2.3 s instead of 1 s). The
            # context already trusts it.
            conn.ca_certs = None
            conn.ca_cert_dir = None


_CONTEXT_LOCK = threading.Lock()


@functools.lru_cache(maxsize=None)
def _context(ca_file: Optional[str]) -> ssl.SSLContext:
    import certifi  # requests' own default bundle: a CA file adds to it

    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _shared_context(ca_file: Optional[str]) -> ssl.SSLContext:
    with _CONTEXT_LOCK:  # built once per CA file, not once per thread
        return _context(ca_file)


def _session(target: Target) -> requests.Session:
    session = requests.Session()
    # trust_env would also read ~/.netrc and attach its credentials; proxies are taken from the environment
    # per request instead (_proxies), so HTTPS_PROXY / NO_PROXY still apply.
    session.trust_env = False
    session.headers["User-Agent"] = _USER_AGENT
    if target.insecure:
        session.verify = False
        # We warn about insecure registries ourselves, once, at preview.
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    session.mount("https://", _Adapter(None if target.insecure else _shared_context(target.ca_file)))
    session.mount("http://", _Adapter(None))
    return session


def _proxies(url: str) -> Dict[str, str]:
    return requests.utils.get_environ_proxies(url)


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")


class _Handshake:
    """One registry's check; every request shares one deadline."""

    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        self.endpoint = endpoint_of(target.key)
        self.deadline = time.monotonic() + timeout
        self.session = _session(target)
        self.secrets: List[str] = [target.password, _basic(target.username, target.password).split(" ", 1)[1]]

    def _get(self, url: str, authorization: Optional[str] = None, params: Optional[dict] = None) -> requests.Response:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise requests.exceptions.Timeout("deadline passed")
        headers = {"Authorization": authorization} if authorization else {}
        response = self.session.get(
            url, headers=headers, params=params, timeout=remaining, allow_redirects=False,
            proxies=_proxies(url), stream=True,
        )
        return response

    def _ping(self) -> Tuple[str, requests.Response]:
        """`GET /v2/` without credentials: the base URL that answered, and its answer."""
        url = f"https://{self.endpoint}/v2/"
        try:
            return url, self._get(url)
        except (requests.exceptions.SSLError, requests.exceptions.ConnectionError):
            if not self.target.insecure:
                raise
        # An insecure registry may speak plain HTTP (containers/image falls back the same way).
        url = f"http://{self.endpoint}/v2/"
        return url, self._get(url)

    def run(self) -> Tuple[str, str]:
        url, response = self._ping()
        status = response.status_code
        where = f"{urlsplit(url).scheme}://{self.endpoint}"
        if status >= 500:
            return UNREACHABLE, f"{where}/v2/ answered HTTP {status}"
        if status == 200:
            # No challenge: docker login would call that a success without sending anything. Sending Basic to the
            # registry itself tells a registry that checks credentials anyway from one that ignores them.
            return self._final(url, _basic(self.target.username, self.target.password), where, "Basic")
        if status != 401:
            return UNREACHABLE, f"{where}/v2/ answered HTTP {status} (expected 200 or 401: is this a registry?)"
        lines = response.raw.headers.getlist("WWW-Authenticate")
        challenges = parse_challenges(lines)
        for challenge in challenges:
            if challenge.scheme == "basic":
                return self._final(url, _basic(self.target.username, self.target.password), where, "Basic")
            if challenge.scheme == "bearer":
                return self._bearer(url, challenge, where)
        schemes = ", ".join(c.scheme for c in challenges) or "none"
        note = (f"; only the first {MAX_CHALLENGES} WWW-Authenticate lines of at most {MAX_CHALLENGE_BYTES} bytes "
                "are read" if ignored(lines) else "")
        return UNREACHABLE, f"{where}/v2/ answered 401 without a Basic or Bearer challenge (schemes: {schemes}){note}"

    def _final(self, url: str, authorization: str, where: str, how: str) -> Tuple[str, str]:
        status = self._get(url, authorization).status_code
        if status == 200:
            return ACCEPTED, f"{where}/v2/ answered 200 with {how} credentials"
        if status in (401, 403):
            return REJECTED, f"{where}/v2/ answered {status} to {how} credentials"
        if status >= 500:
            return UNREACHABLE, f"{where}/v2/ answered HTTP {status} to {how} credentials"
        return UNREACHABLE, f"{where}/v2/ answered HTTP {status} to {how} credentials (expected 200, 401 or 403)"

    def _check_realm(self, realm: str) -> str:
        parts = urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise _Refused(f"the Bearer realm {realm!r} is not an http(s) URL")
        if parts.scheme == "http":
            same_host = parts.hostname.lower() == (urlsplit(f"//{self.endpoint}").hostname or "").lower()
            if not same_host:
                raise _Refused(
                    f"refused to send credentials to the plain-HTTP token realm {realm} on another host "
                    "(credentials go only over HTTPS; an insecure registry may use plain HTTP on its own host only)"
                )
            if not self.target.insecure:
                raise _Refused(
                    f"refused to send credentials to the plain-HTTP token realm {realm}; set insecure: true for "
                    "this registry if it really has no HTTPS"
                )
        return f"{parts.scheme}://{parts.netloc}"

    def _bearer(self, url: str, challenge: Challenge, where: str) -> Tuple[str, str]:
        realm = challenge.params.get("realm")
        if not realm:
            raise _Refused(f"{where}/v2/ sent a Bearer challenge without a realm")
        realm_where = self._check_realm(realm)
        params = {"account": self.target.username}
        for name in ("service", "scope"):
            if challenge.params.get(name):
                params[name] = challenge.params[name]
        answer = self._get(realm, _basic(self.target.username, self.target.password), params)
        status = answer.status_code
        if status in (401, 403):
            return REJECTED, f"the token server {realm_where} answered {status} for user {self.target.username!r}"
        if status != 200:
            return UNREACHABLE, f"the token server {realm_where} answered HTTP {status}"
        token = self._token(answer, realm_where)
        self.secrets.append(token)
        return self._final(url, f"Bearer {token}", where, f"Bearer (token from {realm_where})")

    def _token(self, answer: requests.Response, realm_where: str) -> str:
        body = answer.raw.read(MAX_TOKEN_BYTES + 1, decode_content=True)
        if len(body) > MAX_TOKEN_BYTES:
            raise _Refused(f"the token server {realm_where} answered more than {MAX_TOKEN_BYTES} bytes")
        try:
            document = json.loads(body)
        except ValueError:
            raise _Refused(f"the token server {realm_where} did not answer JSON") from None
        token = (document.get("token") or document.get("access_token")) if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise _Refused(f"the token server {realm_where} answered without a token")
        return token


_SSL_REASON = re.compile(r"\[SSL: [A-Z_]+\] ([^(\"']+)")


def describe_error(error: BaseException) -> str:
    """A short, credential-free account of why a request failed (DNS, refused, TLS, timeout, proxy)."""
    text = repr(error)
    if isinstance(error, requests.exceptions.SSLError):
        match = _SSL_REASON.search(text)
        return f"TLS failed: {match.group(1).strip() if match else 'handshake error'}"
    if isinstance(error, requests.exceptions.ProxyError):
        return "the proxy from HTTPS_PROXY could not be used"
    if isinstance(error, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(error, requests.exceptions.ConnectionError):
        if "NameResolutionError" in text or "Name or service not known" in text or "getaddrinfo" in text:
            return "DNS lookup failed"
        if "Connection refused" in text:
            return "connection refused"
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return "the server closed the connection"
        return "could not connect"
    return f"request failed ({type(error).__name__})"


def check(target: Target, timeout: float = DEFAULT_TIMEOUT) -> Result:
    """Check one registry; never raises for network or protocol trouble (that is an `unreachable` result)."""
    handshake: Optional[_Handshake] = None
    secrets = [target.password]
    watch = _CURRENT.watch = _Watch()
    with _ACTIVE_LOCK:
        _ACTIVE[threading.current_thread()] = watch
    try:
        handshake = _Handshake(target, timeout)
        secrets = handshake.secrets
        outcome, detail = handshake.run()
    except _Refused as refused:
        outcome, detail = UNREACHABLE, str(refused)
    except requests.exceptions.RequestException as error:
        outcome, detail = UNREACHABLE, describe_error(error)
    except OSError as error:  # e.g. an unreadable or malformed CA file (ssl.SSLError is an OSError)
        outcome, detail = UNREACHABLE, f"could not prepare the request ({type(error).__name__})"
    except Exception as error:  # noqa: BLE001 -- a check must end as a result, never as a traceback
        outcome, detail = UNREACHABLE, f"the check failed unexpectedly ({type(error).__name__})"
    finally:
        if handshake is not None:
            handshake.session.close()
        _CURRENT.watch = None
        with _ACTIVE_LOCK:
            _ACTIVE.pop(threading.current_thread(), None)
    return Result(target.label, target.key, endpoint_of(target.key), target.username, outcome, scrub(detail, secrets))


MAX_PARALLEL = 256
"""Threads at once; more registries are checked in batches (each batch costs at most one timeout)."""
GRACE = 1.0
"""Seconds past the timeout for in-flight answers to land, and again for cut-off checks to wind down."""


def check_all(targets: Sequence[Target], timeout: float = DEFAULT_TIMEOUT) -> List[Result]:
    """Check every target in parallel, one thread each; a target still busy after `timeout` ends `unreachable`.

    A check still running then is cut off (its sockets shut down, _Watch), so no check of a batch runs on after
    the batch returns, sending requests nobody waits for. The one step nothing can cut off is the operating
    system's name lookup (getaddrinfo), bounded by the resolver's own timeouts (resolv.conf); such a thread is a
    daemon, so it cannot hold the process open, and it opens no connection once it is cut off.
    """
    results: List[Optional[Result]] = [None] * len(targets)

    def run(index: int, target: Target) -> None:
        results[index] = check(target, timeout)

    for start in range(0, len(targets), MAX_PARALLEL):
        batch = range(start, min(start + MAX_PARALLEL, len(targets)))
        threads = [threading.Thread(target=run, args=(i, targets[i]), daemon=True, name=f"verify-{i}") for i in batch]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout + GRACE
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with _ACTIVE_LOCK:
            late = {thread: _ACTIVE[thread] for thread in threads if thread.is_alive() and thread in _ACTIVE}
        for watch in late.values():
            watch.cancel()
        wound_down = time.monotonic() + GRACE
        for thread in late:
            thread.join(max(0.0, wound_down - time.monotonic()))
        for index in batch:
            if threads[index - start] in late:
                results[index] = None  # what a cut-off check made of its truncated answer is not an answer
    return [
        result if result is not None else Result(
            t.label, t.key, endpoint_of(t.key), t.username, UNREACHABLE, f"no answer within {timeout:g} s"
        )
        for result, t in zip(results, targets)
    ]
