"""Real registries over HTTPS (a CA the test generates), with htpasswd (Basic) or token (Bearer) auth.

The registry is distribution's `docker-registry` serving a certificate from a CA made here. The token issuer is a
small HTTPS (or, to test refusals, plain HTTP) server in this process that checks Basic credentials and signs an
ES256 JWT with a key whose self-signed certificate is the registry's `rootcertbundle` (distribution's
registry/auth/token verifies the `x5c` chain against it; claims iss, aud, exp, nbf, iat, jti, access).
"""

import base64
import datetime
import ipaddress
import json
import ssl
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List, Optional

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from support.registry import (
    LOG_NAME,
    START_TIMEOUT,
    RegistryError,
    _free_port,
    _parent_death_wrapper,
    _registry_env,
    _stop,
    _tail,
    _write_htpasswd,
    require_tools,
)

SERVICE = "test-registry"
ISSUER = "test-issuer"


@dataclass(frozen=True)
class CA:
    """A throwaway CA and a server certificate for 127.0.0.1, 127.0.0.2 and localhost, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def make_ca(directory: Path, name: str = "test CA") -> CA:
    """Generate a CA and a CA-signed server certificate (SAN IP:127.0.0.1, IP:127.0.0.2, DNS:localhost)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("127.0.0.2")),
            x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca = CA(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    ca.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    ca.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, ca.key_file)
    return ca


class TokenIssuer:
    """A token endpoint: Basic credentials in, an ES256 JWT out; 401 on wrong ones. Counts every request."""

    def __init__(self, directory: Path, username: str, password: str, ca: Optional[CA], host: str = "127.0.0.1"):
        directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(_name("token signer")).issuer_name(_name("token signer"))
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )
        self.signer_file = directory / "signer.pem"
        self.signer_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self._expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.accepted = {self._expected}
        """The Basic credentials the issuer takes; `accept` changes them (a rotation on the registry's side)."""
        self.requests: List[str] = []  # request paths (with query), in order
        self.issued: List[str] = []
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's method name)
                issuer.requests.append(self.path)
                if self.headers.get("Authorization") not in issuer.accepted:
                    self._answer(401, {"details": "bad credentials"})
                    return
                token = issuer._token()
                self._answer(200, {"token": token, "access_token": token, "expires_in": 300})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        scheme = "http"
        if ca is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(ca.cert_file, ca.key_file)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.realm = f"{scheme}://{host}:{self._server.server_address[1]}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def accept(self, *credentials: "tuple[str, str]") -> None:
        """Take exactly these (username, password) pairs from now on."""
        self.accepted = {"Basic " + base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in credentials}

    def _token(self) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": SERVICE, "sub": "test", "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": uuid.uuid4().hex, "access": []}
        token = jwt.encode(claims, self._key, algorithm="ES256", headers={"x5c": [self._x5c]})
        self.issued.append(token)
        return token

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class TLSRegistry:
    """A running HTTPS registry; `ca_file` is the CA that signed its certificate."""

    host: str
    username: str
    password: str = field(repr=False)
    ca_file: Path
    workdir: Path
    issuer: Optional[TokenIssuer] = None

    def log_text(self) -> str:
        """The registry's log so far."""
        return (self.workdir / LOG_NAME).read_text(errors="replace")


def _config(workdir: Path, port: int, ca: CA, auth: dict) -> Path:
    config = workdir / "config.yml"
    config.write_text(json.dumps({
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {"filesystem": {"rootdirectory": str(workdir / "storage")}},
        "http": {"addr": f"127.0.0.1:{port}", "tls": {"certificate": str(ca.cert_file), "key": str(ca.key_file)}},
        "auth": auth,
    }, indent=2))
    return config


def _ready(host: str, ca: CA) -> bool:
    context = ssl.create_default_context(cafile=str(ca.ca_file))
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        opener.open(f"https://{host}/v2/", timeout=2).close()
        return True
    except urllib.error.HTTPError as err:
        err.close()
        return err.code == 401
    except OSError:
        return False


@contextmanager
def running_tls_registry(
    workdir: Path, username: str, password: str, auth: str = "htpasswd", realm_host: str = "127.0.0.1",
    realm_tls: bool = True,
) -> Iterator[TLSRegistry]:
    """Run docker-registry over HTTPS on 127.0.0.1 with `htpasswd` or `token` auth; stop it (and the issuer) on exit.

    For token auth the issuer listens on `realm_host`, over HTTPS unless `realm_tls` is false.
    """
    require_tools()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    ca = make_ca(workdir / "pki")
    issuer = None
    if auth == "htpasswd":
        _write_htpasswd(workdir / "htpasswd", username, password)
        auth_config = {"htpasswd": {"realm": "test", "path": str(workdir / "htpasswd")}}
    else:
        issuer = TokenIssuer(workdir / "issuer", username, password, ca if realm_tls else None, realm_host)
        auth_config = {"token": {"realm": issuer.realm, "service": SERVICE, "issuer": ISSUER,
                                 "rootcertbundle": str(issuer.signer_file)}}
    port = _free_port()
    host = f"127.0.0.1:{port}"
    config = _config(workdir, port, ca, auth_config)
    with open(workdir / LOG_NAME, "ab") as log:
        process = subprocess.Popen(
            [*_parent_death_wrapper(), "docker-registry", "serve", str(config)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=_registry_env(workdir),
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _ready(host, ca):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RegistryError(f"TLS registry did not come up on {host}:\n{_tail(workdir / LOG_NAME)}")
            time.sleep(0.02)
        yield TLSRegistry(host, username, password, ca.ca_file, workdir, issuer)
    finally:
        _stop(process)
        if issuer is not None:
            issuer.close()


@contextmanager
def silent_server(host: str = "127.0.0.1") -> Iterator[str]:
    """A TCP port that accepts connections (kernel backlog) and never answers: every request times out."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(256)
    try:
        yield f"{host}:{sock.getsockname()[1]}"
    finally:
        sock.close()


USERNAME = "robot$verify"
PASSWORD = "v3rify:P@ss<&>é-secret"
"""Non-ASCII and ':' included: Basic auth must carry them as UTF-8, and no output may ever show them."""


@pytest.fixture(scope="session")
def tls_basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSRegistry]:
    """An HTTPS registry with htpasswd (Basic) auth for USERNAME/PASSWORD."""
    with running_tls_registry(tmp_path_factory.mktemp("tls-basic"), USERNAME, PASSWORD) as registry:
        yield registry


@pytest.fixture(scope="session")
def tls_token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSRegistry]:
    """An HTTPS registry with token (Bearer) auth; its issuer (HTTPS, 127.0.0.1) checks USERNAME/PASSWORD."""
    with running_tls_registry(tmp_path_factory.mktemp("tls-token"), USERNAME, PASSWORD, auth="token") as registry:
        yield registry
