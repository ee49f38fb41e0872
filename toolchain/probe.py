"""Ask the Go module proxy for every module@version the real-engine toolchain needs or could fall back to.

Prints one Markdown table row per module@version: served or refused, and what the toolchain does with it. The
pins come from toolchain/versions.env; the other rows are the alternatives the build recipe considered, kept so the
table shows why each pin is what it is. Run it as `bash scripts/probe-proxy` (a few minutes cold: it downloads
the modules into the engine cache's module cache).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from toolchain.pins import go_env, read_versions

V = read_versions()
PULUMI_PKG = "github.com/pulumi/pulumi/pkg/v3"
K8S_PROVIDER = "github.com/pulumi/pulumi-kubernetes/provider/v4"
RANDOM_PROVIDER = "github.com/pulumi/pulumi-random/provider/v4"
PYTHON_HOST = "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3"
NODEJS_HOST = "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"

# (module, version, what it is, what the toolchain does). Pseudo-versions are the commits of release tags read in
# source (pulumi-kubernetes v4.25.0 to v4.32.0, whose provider/ module is untagged; pulumi v3.259.0 and v3.258.0,
# whose language hosts are untagged modules). A module the proxy does not list may still serve an exact version
# (pulumi-yaml v1.38.0), so every row asks for one.
CANDIDATES = [
    (PULUMI_PKG, V["PULUMI_VERSION"], "pulumi CLI", "pinned"),
    ("github.com/pulumi/pulumi/sdk/v3", V["PULUMI_VERSION"], "pulumi SDK (exec script, language host API)", "pinned"),
    (PULUMI_PKG, "v3.270.0", "pulumi CLI", "gap in the mirror"),
    (PYTHON_HOST, V["PULUMI_VERSION"], "Python language host", "if refused: stand-in, toolchain/standins/python-host"),
    (PYTHON_HOST, "v3.0.0-20260819165155-0ac56e876614", "Python language host at v3.259.0", "if refused: stand-in"),
    (PYTHON_HOST, "v3.0.0-20260817123626-dd623623bc63", "Python language host at v3.258.0", "if refused: stand-in"),
    (NODEJS_HOST, V["PULUMI_VERSION"], "Node.js language host", "if refused: TypeScript example not run"),
    (NODEJS_HOST, "v3.0.0-20260819165155-0ac56e876614", "Node.js language host at v3.259.0", "if refused: not run"),
    ("github.com/pulumi/pulumi-yaml", "v1.25.0", "YAML language host (newest listed)", "no Link RPC: package add fails"),
    ("github.com/pulumi/pulumi-yaml", V["PULUMI_YAML_VERSION"], "YAML language host (unlisted)", "pinned"),
    (K8S_PROVIDER, "v4.0.0-20260608201737-a03ff6ba58d2", "pulumi-kubernetes 4.32.0", "preferred; if refused: 4.25.0"),
    (K8S_PROVIDER, "v4.0.0-20260519174143-7bc3a67047b9", "pulumi-kubernetes 4.31.1", "preferred; if refused: 4.25.0"),
    (K8S_PROVIDER, "v4.0.0-20260515000232-066f47ef0338", "pulumi-kubernetes 4.31.0", "if refused: 4.25.0"),
    (K8S_PROVIDER, "v4.0.0-20260424220041-55e3b2da3931", "pulumi-kubernetes 4.30.0", "if refused: 4.25.0"),
    (K8S_PROVIDER, "v4.0.0-20260416065623-6a98f51194f6", "pulumi-kubernetes 4.29.0", "preferred; if refused: 4.25.0"),
    (K8S_PROVIDER, "v4.0.0-20260312171902-1655f4c7933d", "pulumi-kubernetes 4.28.0", "if refused: 4.25.0"),
    (K8S_PROVIDER, "v4.0.0-20260302183207-20f0c0715292", "pulumi-kubernetes 4.27.0", "if refused: 4.25.0"),
    (K8S_PROVIDER, "v4.0.0-20260219180430-ca4c5d052855", "pulumi-kubernetes 4.26.0", "if refused: 4.25.0"),
    (K8S_PROVIDER, V["KUBERNETES_PROVIDER_MODULE"], f"pulumi-kubernetes {V['KUBERNETES_PROVIDER_VERSION']}", "pinned"),
    (RANDOM_PROVIDER, "v4.0.0-20260128034448-cf143e6acc9c", "pulumi-random 4.19.1",
     "if refused: stand-in, toolchain/standins/random-provider"),
    ("github.com/pulumi/pulumi-terraform-bridge/v3", "v3.120.0", "TF bridge (for pulumi-random)", "unused: random is refused"),
    ("go.etcd.io/etcd/server/v3", V["ETCD_VERSION"], "etcd", "pinned"),
    ("k8s.io/kubernetes", V["KUBERNETES_VERSION"], "kube-apiserver, -controller-manager, -scheduler", "pinned"),
    ("k8s.io/api", "v0" + V["KUBERNETES_VERSION"][2:], "a staging module (one of 33)", "pinned"),
    ("sigs.k8s.io/kwok", V["KWOK_VERSION"], "kwok (fake nodes)", "pinned"),
]


def probe(workdir: Path, env: dict, module: str, version: str) -> tuple:
    """(served, detail) for one module@version, as `go mod download -json` answers."""
    started = time.monotonic()
    result = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=900,
    )
    took = time.monotonic() - started
    try:
        answer = json.loads(result.stdout or "{}")
    except ValueError:
        answer = {"Error": (result.stderr or result.stdout).strip()}
    if result.returncode != 0 or answer.get("Error"):
        error = str(answer.get("Error") or result.stderr).strip()
        reason = "refused (403)" if "403" in error or "not available" in error else error.splitlines()[-1][:80]
        return False, reason, took
    go = ""
    gomod = answer.get("GoMod")
    if gomod and os.path.exists(gomod):
        for line in Path(gomod).read_text().splitlines():
            if line.startswith("go "):
                go = f"go {line.split()[1]}"
                break
    return True, go, took


def main() -> int:
    """Print the table; exit 1 when a pinned module@version is refused."""
    env = go_env()
    refused_pins = []
    with tempfile.TemporaryDirectory(prefix="probe-") as scratch:
        workdir = Path(scratch)
        subprocess.run(["go", "mod", "init", "probe.invalid"], cwd=workdir, env=env, capture_output=True, check=True)
        print(f"Go module proxy probe, {time.strftime('%Y-%m-%d')}, {env.get('GOPROXY') or 'default GOPROXY'}\n")
        print("| module | version | what | answer | toolchain |")
        print("|---|---|---|---|---|")
        for module, version, what, role in CANDIDATES:
            served, detail, took = probe(workdir, env, module, version)
            answer = f"served{' (' + detail + ')' if detail else ''}" if served else detail
            print(f"| `{module}` | `{version}` | {what} | {answer} | {role} |", flush=True)
            if role == "pinned" and not served:
                refused_pins.append(f"{module}@{version}")
    if refused_pins:
        print(f"\nrefused pins: {', '.join(refused_pins)}; change toolchain/versions.env", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
