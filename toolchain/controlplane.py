"""A loopback Kubernetes control plane for the real-engine tests: etcd, kube-apiserver, kube-controller-manager.

Built by scripts/toolchain (the binaries' directory comes in as `bin_dir`). Everything listens on 127.0.0.1 at free
ports; the certificates are made here (a CA, the API server's serving certificate, an admin client certificate in
`system:masters`, and the ServiceAccount signing key); the kubeconfig is written into the run directory. Processes
run in their own sessions and are stopped by PID, in reverse order; their logs stay in the run directory.

Flags follow the component docs and source (kubernetes v1.37.2):
- the API server's ServiceAccount issuer and signing key are required flags
  (pkg/kubeapiserver/options/authentication.go);
- `--endpoint-reconciler-type=none` keeps the API server from writing its own Endpoints for an address pods could
  never reach;
- the controller manager runs only the controllers the component's behaviour depends on: `serviceaccount` (the
  `default` ServiceAccount of each namespace), `namespace` (Namespace deletion finishes), `garbage-collector`,
  `daemonset`, `deployment` and `replicaset` (pods of workloads, so pod templates are exercised end to end), and
  `node-lifecycle` (it lifts the `node.kubernetes.io/not-ready` taint that admission puts on every new node once
  the node reports Ready), and `clusterrole-aggregation` (ClusterRoles that gather others by label, as the engines'
  installs do) (cmd/kube-controller-manager/names/controller_names.go).
"""

import datetime
import http.client
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
CONTROLLERS = (
    "serviceaccount-controller",
    "namespace-controller",
    "garbage-collector-controller",
    "daemonset-controller",
    "deployment-controller",
    "replicaset-controller",
    "node-lifecycle-controller",
    "clusterrole-aggregation-controller",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: Any) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _cert(subject: x509.Name, key: Any, issuer: x509.Name, signer: Any, ca: bool = False,
          sans: Sequence[x509.GeneralName] = (), client: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    else:
        usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(signer, hashes.SHA256())


@dataclass
class Certificates:
    """File paths of everything the control plane and its clients need."""

    ca: Path
    ca_key: Path
    server: Path
    server_key: Path
    admin: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path


def make_certificates(directory: Path) -> Certificates:
    """A throwaway CA, the API server's certificate (SAN 127.0.0.1, localhost), an admin client, the SA key pair."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registry-credentials test CA")])
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    server_key = _key()
    server = _cert(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]), server_key, ca_name, ca_key,
        sans=[x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost"),
              x509.DNSName("kubernetes.default.svc")],
    )
    admin_key = _key()
    # system:masters bypasses RBAC (the admin of every kubeadm cluster is in it); the CN is the user name.
    admin = _cert(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                             x509.NameAttribute(NameOID.COMMON_NAME, "admin")]),
                  admin_key, ca_name, ca_key, client=True)
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    paths = Certificates(*(directory / n for n in (
        "ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key", "sa.key", "sa.pub")))
    for cert, path in ((ca, paths.ca), (server, paths.server), (admin, paths.admin)):
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    for key, path in ((ca_key, paths.ca_key), (server_key, paths.server_key), (admin_key, paths.admin_key),
                      (sa_key, paths.sa_key)):
        _write_key(path, key)
    paths.sa_pub.write_bytes(sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return paths


class ControlPlaneError(RuntimeError):
    """The control plane did not come up; the message carries the failing component's last log lines."""


@dataclass
class Process:
    """One running binary: its name, process and log file."""

    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class ControlPlane:
    """A running control plane, its kubeconfig, and small clients for tests."""

    run_dir: Path
    bin_dir: Path
    apiserver_args: Sequence[str] = ()
    """Extra kube-apiserver flags, e.g. a `--runtime-config` that turns an API off (a cluster without it)."""
    certs: Certificates = field(init=False)
    kubeconfig: Path = field(init=False)
    server: str = field(init=False)
    processes: List[Process] = field(default_factory=list)

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> "ControlPlane":
        """Start etcd, the API server and the controller manager; return when each answers its readiness check."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        self.certs = make_certificates(self.run_dir / "pki")
        deadline = time.monotonic() + timeout
        etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
        etcd_url = f"http://{LOOPBACK}:{etcd_port}"
        self._spawn("etcd", [
            "--name", "e2e", "--data-dir", str(self.run_dir / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", f"http://{LOOPBACK}:{peer_port}",
            "--initial-advertise-peer-urls", f"http://{LOOPBACK}:{peer_port}",
            "--initial-cluster", f"e2e=http://{LOOPBACK}:{peer_port}",
            "--listen-metrics-urls", f"http://{LOOPBACK}:{free_port()}",
            "--unsafe-no-fsync", "--log-level", "warn",
        ])
        self._wait("etcd", deadline, lambda: self._http_ok(f"{etcd_url}/health", b'"health":"true"'))
        self.server = f"https://{LOOPBACK}:{api_port}"
        c = self.certs
        self._spawn("kube-apiserver", [
            f"--etcd-servers={etcd_url}", f"--bind-address={LOOPBACK}", f"--secure-port={api_port}",
            f"--advertise-address={LOOPBACK}", "--endpoint-reconciler-type=none", "--authorization-mode=RBAC",
            f"--tls-cert-file={c.server}", f"--tls-private-key-file={c.server_key}", f"--client-ca-file={c.ca}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={c.sa_pub}", f"--service-account-signing-key-file={c.sa_key}",
            "--service-cluster-ip-range=10.96.0.0/24", "--allow-privileged=true",
            f"--cert-dir={self.run_dir / 'apiserver-certs'}", *self.apiserver_args,
        ])
        self._wait("kube-apiserver", deadline, lambda: self.request("GET", "/readyz")[0] == 200)
        self.kubeconfig = self._write_kubeconfig()
        self._spawn("kube-controller-manager", [
            f"--kubeconfig={self.kubeconfig}", "--leader-elect=false", f"--bind-address={LOOPBACK}",
            "--secure-port=0", f"--controllers={','.join(CONTROLLERS)}", "--use-service-account-credentials=false",
            f"--root-ca-file={c.ca}", f"--service-account-private-key-file={c.sa_key}",
        ])
        self._wait("kube-controller-manager", deadline,
                   lambda: self.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")[0] == 200)
        return self

    def add_nodes(self, count: int, timeout: float = 60.0) -> List[str]:
        """Fake nodes: kube-scheduler places pods on them and kwok plays their kubelets (pods become Running and
        Ready, nothing is pulled or run). kwok serves nothing (no --server-address) and pod IPs are only status
        fields that nothing connects to."""
        deadline = time.monotonic() + timeout
        if not any(p.name == "kwok" for p in self.processes):
            self._spawn("kube-scheduler", [f"--kubeconfig={self.kubeconfig}", "--leader-elect=false",
                                           f"--bind-address={LOOPBACK}", "--secure-port=0"])
            # kwok reads ~/.kwok/kwok.yaml by default: _spawn points HOME at the run directory, and the stages
            # (how fake kubelets move nodes and pods along) are upstream's default set, beside the binary.
            self._spawn("kwok", [f"--kubeconfig={self.kubeconfig}", f"--config={self.bin_dir / 'kwok-stages.yaml'}",
                                 "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                                 "--node-ip=127.0.0.2", "--cidr=10.244.0.0/16", "--node-lease-duration-seconds=40"])
        existing = len([n for n in (self.get("/api/v1/nodes") or {}).get("items", [])])
        names = [f"kwok-node-{existing + i}" for i in range(count)]
        for name in names:
            resources = {"cpu": "32", "memory": "256Gi", "pods": "110"}
            node = {"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                                 "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                            "kubernetes.io/arch": "amd64", "type": "kwok"}},
                    "status": {"allocatable": resources, "capacity": resources}}
            status, body = self.request("POST", "/api/v1/nodes", node)
            if status != 201:
                raise AssertionError(f"create node {name}: {status} {body}")
        for name in names:
            while True:
                node = self.get(f"/api/v1/nodes/{name}") or {}
                conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
                if conditions.get("Ready") == "True" and not node.get("spec", {}).get("taints"):
                    break
                if time.monotonic() > deadline:
                    raise ControlPlaneError(f"node {name} not Ready in time\n{self.log_tails()}")
                time.sleep(0.2)
        return names

    def stop(self) -> None:
        """Stop each process group in reverse start order, waiting for each (an API server whose etcd is already
        gone waits out its retries); SIGKILL whatever has not exited 10 s after SIGTERM."""
        for process in reversed(self.processes):
            _signal_group(process.popen, signal.SIGTERM)
            try:
                process.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(process.popen, signal.SIGKILL)
                process.popen.wait(timeout=10)

    def log_tails(self, lines: int = 30) -> str:
        """The last lines of every component's log, for a failure message."""
        parts = []
        for process in self.processes:
            text = process.log.read_text(errors="replace").splitlines()[-lines:] if process.log.exists() else []
            parts.append(f"--- {process.name} ({process.log})\n" + "\n".join(text))
        return "\n".join(parts)

    def _spawn(self, name: str, args: Sequence[str]) -> None:
        log = self.run_dir / "logs" / f"{name}.log"
        handle = log.open("ab")
        env = {**os.environ, "HOME": str(self.run_dir)}  # no user configuration (kwok reads ~/.kwok)
        popen = subprocess.Popen([str(self.bin_dir / name), *args], stdout=handle, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.run_dir, env=env)
        handle.close()
        self.processes.append(Process(name, popen, log))

    def _wait(self, name: str, deadline: float, ready: Any) -> None:
        process = next(p for p in self.processes if p.name == name)
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise ControlPlaneError(f"{name} exited with {process.popen.returncode}\n{self.log_tails()}")
            try:
                if ready():
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        raise ControlPlaneError(f"{name} was not ready in time\n{self.log_tails()}")

    @staticmethod
    def _http_ok(url: str, needle: bytes) -> bool:
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=2)
        try:
            connection.request("GET", "/" + url.split("//", 1)[1].split("/", 1)[1])
            response = connection.getresponse()
            return response.status == 200 and needle in response.read()
        finally:
            connection.close()

    def _write_kubeconfig(self) -> Path:
        path = self.run_dir / "admin.kubeconfig"
        c = self.certs
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "e2e",
            "clusters": [{"name": "e2e", "cluster": {"server": self.server, "certificate-authority": str(c.ca)}}],
            "users": [{"name": "admin", "user": {"client-certificate": str(c.admin),
                                                  "client-key": str(c.admin_key)}}],
            "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "admin"}}],
        }
        path.write_text(json.dumps(config, indent=2))  # JSON is YAML; kubectl and the provider read it
        path.chmod(0o600)
        return path

    # --- clients -------------------------------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.certs.ca))
        context.load_cert_chain(str(self.certs.admin), str(self.certs.admin_key))
        return context

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> Tuple[int, Any]:
        """One API call as the admin; (status, decoded JSON or text)."""
        host, port = self.server.split("//", 1)[1].split(":")
        connection = http.client.HTTPSConnection(host, int(port), context=self._ssl(), timeout=30)
        try:
            payload = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
            headers = {"Content-Type": content_type, "Accept": "application/json"} if payload is not None else {
                "Accept": "application/json"}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw

    def get(self, path: str) -> Optional[Dict[str, Any]]:
        """The object at an API path, or None when it does not exist (any other failure raises)."""
        status, body = self.request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise AssertionError(f"GET {path}: {status} {body}")
        return body

    def create_namespace(self, name: str, labels: Optional[Dict[str, str]] = None) -> None:
        """Create a namespace and wait until the controller manager has given it its `default` ServiceAccount."""
        status, body = self.request("POST", "/api/v1/namespaces",
                                    {"metadata": {"name": name, "labels": labels or {}}})
        if status not in (201, 409):
            raise AssertionError(f"create namespace {name}: {status} {body}")
        self.wait_for(f"/api/v1/namespaces/{name}/serviceaccounts/default")

    def wait_for(self, path: str, timeout: float = 30.0, gone: bool = False) -> Optional[Dict[str, Any]]:
        """Poll an API path until the object exists (or, with gone=True, until it does not)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.get(path)
            if (found is None) == gone:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} still {'present' if gone else 'missing'} after {timeout} s")
            time.sleep(0.2)

    @staticmethod
    def wait_until(condition: Any, timeout: float = 30.0, what: str = "condition") -> None:
        """Poll `condition()` until it is true."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not met after {timeout} s")
            time.sleep(0.2)

    def kubectl(self, *args: str, input_text: Optional[str] = None) -> subprocess.CompletedProcess:
        """kubectl against this control plane (its own kubeconfig, no user config)."""
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.run_dir)}
        return subprocess.run(["kubectl", *args], env=env, input=input_text, capture_output=True, text=True,
                              timeout=60)


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    if popen.poll() is not None:
        return
    try:
        os.killpg(popen.pid, sig)
    except ProcessLookupError:
        pass


class Watch:
    """Every change to some kinds in one namespace, recorded from the API server's watch streams.

    Unlike polling, a watch delivers each resourceVersion, so a transient state (a Secret deleted and created
    again) cannot slip between two looks. Events are (kind, type, object) in arrival order per stream; `states`
    replays them into the sequence of what the namespace held after each event.
    """

    def __init__(self, plane: "ControlPlane", namespace: str, paths: Dict[str, str]) -> None:
        import threading

        self.plane = plane
        self.namespace = namespace
        self.paths = paths  # kind -> collection path, e.g. {"Secret": "/api/v1/namespaces/apps/secrets"}
        self.events: List[Tuple[float, str, str, Dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._connections: List[http.client.HTTPSConnection] = []
        self._threads = [threading.Thread(target=self._stream, args=(k, p), daemon=True) for k, p in paths.items()]
        self._ready = threading.Barrier(len(paths) + 1)

    def __enter__(self) -> "Watch":
        for thread in self._threads:
            thread.start()
        self._ready.wait(timeout=30)
        return self

    def __exit__(self, *exc: Any) -> None:
        time.sleep(1.0)  # let the last events of the operation arrive
        for connection in self._connections:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR) if connection.sock else None
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=10)

    def _stream(self, kind: str, path: str) -> None:
        host, port = self.plane.server.split("//", 1)[1].split(":")
        connection = http.client.HTTPSConnection(host, int(port), context=self.plane._ssl(), timeout=600)
        self._connections.append(connection)
        # List first: the watch then starts at the list's resourceVersion, so nothing is missed in between.
        status, listing = self.plane.request("GET", path)
        with self._lock:
            for item in listing.get("items", []):
                self.events.append((time.monotonic(), kind, "ADDED", item))
        connection.request("GET", f"{path}?watch=1&resourceVersion={listing['metadata']['resourceVersion']}",
                           headers={"Accept": "application/json"})
        response = connection.getresponse()
        self._ready.wait(timeout=30)
        try:
            while True:
                line = response.readline()
                if not line:
                    return
                event = json.loads(line)
                with self._lock:
                    self.events.append((time.monotonic(), kind, event["type"], event["object"]))
        except (OSError, ValueError, http.client.HTTPException):
            return

    def states(self) -> List[Dict[Tuple[str, str], Dict[str, Any]]]:
        """After each event, in order: (kind, name) -> object, for everything that existed.

        Events of different kinds are ordered by resourceVersion, which clients must treat as opaque but which a
        single-etcd API server fills from etcd's one global revision counter (the object's mod revision).
        """
        current: Dict[Tuple[str, str], Dict[str, Any]] = {}
        result = []
        for _, kind, event_type, obj in sorted(self.events, key=lambda e: int(e[3]["metadata"]["resourceVersion"])):
            key = (kind, obj["metadata"]["name"])
            if event_type == "DELETED":
                current.pop(key, None)
            elif event_type in ("ADDED", "MODIFIED"):
                current[key] = obj
            result.append(dict(current))
        return result
