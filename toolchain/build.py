"""Build the real-engine toolchain from Go modules into a cache outside the repository.

Each component (the Pulumi CLI, its Python and YAML language hosts, the kubernetes and random providers, etcd, the
Kubernetes control plane, kwok) is built once into `<cache>/bin/<name>-<version>-go<ver>-<hash>/`, where the hash
covers its recipe's own source, its pins and our files it compiles. A second run finds every key and finishes in
seconds. The binaries are then hard-linked into one directory, whose path is the only thing printed on stdout;
progress goes to stderr, one line per component with its time, then the total.

Nothing upstream is committed: wrappers are written into the cache at build time, and where upstream builds from
generated files (the kubernetes provider's embedded schema) we generate them from the module's own data.
"""

import argparse
import fcntl
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from toolchain.pins import HERE, engine_cache, go_env, read_versions

PINS = read_versions()
PULUMI_SDK = "github.com/pulumi/pulumi/sdk/v3"
STANDINS = HERE / "standins"


class BuildError(Exception):
    """A component failed to build; the message says what to do, the log holds the rest."""


@dataclass(frozen=True)
class Component:
    """One thing to build: what it is called, its pinned version, what it produces and how."""

    name: str
    version: str
    binaries: Sequence[str]
    recipe: Callable[["Build"], None]
    sources: Sequence[Path] = ()

    def key(self, go_version: str) -> str:
        """The cache key: name, version, Go version, and a hash of everything that decides the bytes."""
        digest = hashlib.sha256()
        recipe = inspect.getsource(self.recipe)
        # The pins this recipe reads, not the whole file: a new kwok pin must not rebuild the CLI.
        used = {name: PINS[name] for name in sorted(set(re.findall(r"PINS\[[\"'](\w+)[\"']\]", recipe)))}
        for part in (recipe, inspect.getsource(Build), json.dumps(used)):
            digest.update(part.encode())
        for source in self.sources:
            digest.update(source.read_bytes())
        return f"{self.name}-{self.version}-{go_version}-{digest.hexdigest()[:12]}"


class Build:
    """One component's build: a wrapper module in `wrap`, binaries into `out`, every command logged to `log`."""

    def __init__(self, component: Component, wrap: Path, out: Path, log: Path) -> None:
        self.component = component
        self.wrap = wrap
        self.out = out
        self.log = log
        self.env = go_env()

    def go(self, *args: str, cwd: Optional[Path] = None) -> str:
        """Run `go args...` in the wrapper; a refusal by the module proxy names the module@version it refused."""
        with self.log.open("a") as log:
            log.write(f"$ go {' '.join(args)}\n")
            log.flush()
            result = subprocess.run(["go", *args], cwd=cwd or self.wrap, env=self.env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            log.write(result.stdout)
        if result.returncode != 0:
            raise BuildError(_explain_go_failure(result.stdout, self.log))
        return result.stdout

    def module(self, path: str, go: str = "1.26") -> None:
        """Start a fresh wrapper module (our own, never upstream's) named under local.invalid."""
        if self.wrap.exists():
            shutil.rmtree(self.wrap)
        self.wrap.mkdir(parents=True)
        (self.wrap / "go.mod").write_text(f"module local.invalid/engine/{path}\n\ngo {go}\n")

    def module_dir(self, module: str) -> Path:
        """Where the module cache holds a required module's files (downloaded first: a cold cache has none)."""
        info = json.loads(self.go("mod", "download", "-json", module))
        directory = info.get("Dir")
        if not directory or not Path(directory).is_dir():
            raise BuildError(f"go mod download {module} gave no directory: {info}")
        return Path(directory)

    def standin(self, folder: str, binary: str, version: str, sdk: str) -> None:
        """Build one of our stand-ins (toolchain/standins/<folder>/main.go) on Pulumi's Go SDK `sdk`, and start it."""
        self.module(folder)
        shutil.copy(STANDINS / folder / "main.go", self.wrap / "main.go")
        self.go("mod", "edit", f"-require={PULUMI_SDK}@{sdk}")
        self.go("mod", "tidy")
        self.go("build", "-ldflags", f"-s -w -X main.version={version}", "-o", str(self.out / binary), ".")
        self.smoke_plugin(binary)

    def smoke(self, binary: str, args: Sequence[str], expect: str) -> None:
        """Run a built binary once; its output must contain `expect` (catches missing version ldflags)."""
        result = subprocess.run([str(self.out / binary), *args], capture_output=True, text=True, timeout=60)
        text = result.stdout + result.stderr
        if expect not in text:
            raise BuildError(f"{binary} {' '.join(args)} printed {text.strip()[:200]!r}, expected {expect!r}")

    def smoke_plugin(self, binary: str) -> None:
        """A plugin prints the port it serves on as its first line; start it, read that, stop it."""
        process = subprocess.Popen([str(self.out / binary)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        try:
            first = process.stdout.readline().strip() if process.stdout else ""
        finally:
            process.kill()
            process.wait()
        if not first.isdigit():
            raise BuildError(f"{binary} did not start as a plugin (first line {first!r})")


def _explain_go_failure(output: str, log: Path) -> str:
    refused = re.search(r"([\w./~-]+)@(v[\w.+-]+): (?:invalid version: )?reading \S+: 40[34]", output)
    if refused:
        return (f"refused by the Go module proxy: {refused.group(1)}@{refused.group(2)}; pick a served version "
                f"in toolchain/versions.env (bash scripts/probe-proxy lists them). Log: {log}")
    unlisted = re.search(r"module ([\w./~-]+): reading \S+/@v/list: 40[34]", output)
    if unlisted:
        return f"refused by the Go module proxy: {unlisted.group(1)} (no version served). Log: {log}"
    tail = "\n".join(output.strip().splitlines()[-15:])
    return f"go failed; last lines:\n{tail}\nLog: {log}"


def _bare(version: str) -> str:
    return version[1:] if version.startswith("v") else version


# --- recipes: each writes its own wrapper module, builds into build.out, and smoke-checks what it built ---------


def build_pulumi(build: Build) -> None:
    """The CLI, with the official build tags and the version ldflag (PulumiCommand refuses an empty version)."""
    version = PINS["PULUMI_VERSION"]
    build.module("pulumi")
    old, new = PINS["CLIPBOARD_REPLACE"].split("@")
    build.go("mod", "edit", f"-require={PULUMI_SDK}@{version}", f"-replace=github.com/atotto/clipboard={old}@{new}")
    build.go("get", "-tool", f"github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@{version}")
    build.go("build", "-tags", "osusergo,grpcnotrace",
             "-ldflags", f"-s -w -X {PULUMI_SDK}/go/common/version.Version={version}",
             "-o", str(build.out / "pulumi"), "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi")
    build.smoke("pulumi", ["version"], version)


def build_python_host(build: Build) -> None:
    """Our stand-in for pulumi-language-python (its module is not served), beside the SDK's own exec script."""
    version = PINS["PULUMI_VERSION"]
    build.standin("python-host", "pulumi-language-python", _bare(version), sdk=version)
    # The host runs Python programs through the SDK's exec script, found beside the host (upstream does the same).
    exec_script = build.module_dir(PULUMI_SDK) / "python" / "cmd" / "pulumi-language-python-exec"
    target = build.out / "pulumi-language-python-exec"
    shutil.copy(exec_script, target)
    target.chmod(0o755)  # module zips drop file modes


def build_random_standin(build: Build) -> None:
    """Our stand-in for pulumi-resource-random (RandomId only); it reports the pinned SDK's version +standin."""
    # Semver build metadata: the engine's ">= SDK version" check passes, and the plugin says what it is.
    build.standin("random-provider", "pulumi-resource-random", PINS["PULUMI_RANDOM_SDK_PY"] + "+standin",
                  sdk=PINS["PULUMI_VERSION"])


def build_yaml_host(build: Build) -> None:
    """pulumi-language-yaml at its tag (its go.mod has no replaces, so the tool directive is all it takes)."""
    version = PINS["PULUMI_YAML_VERSION"]
    build.module("yaml-host")
    build.go("get", "-tool", f"github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@{version}")
    build.go("build", "-ldflags", f"-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version={version}",
             "-o", str(build.out / "pulumi-language-yaml"), "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml")
    build.smoke_plugin("pulumi-language-yaml")


def build_kubernetes_provider(build: Build) -> None:
    """pulumi-resource-kubernetes from our main.go and the embeds that upstream's `go generate` would write."""
    module = "github.com/pulumi/pulumi-kubernetes/provider/v4"
    version = PINS["KUBERNETES_PROVIDER_VERSION"]
    build.module("kubernetes-provider")
    shutil.copy(HERE / "kubernetes-provider" / "main.go", build.wrap / "main.go")
    # Upstream's `replace .../sdk/v4 => ../sdk` is dropped: no provider package imports the SDK.
    build.go("mod", "edit", f"-require={module}@{PINS['KUBERNETES_PROVIDER_MODULE']}")
    data = build.module_dir(module) / "cmd" / "pulumi-resource-kubernetes"
    # What upstream's generate.go does: the schema with its version set, and the terraform mapping compacted.
    schema = json.loads((data / "schema.json").read_text())
    schema["version"] = version
    (build.wrap / "schema-embed.json").write_text(json.dumps(schema, separators=(",", ":")))
    mapping = json.loads((data / "terraform-mapping.json").read_text())
    (build.wrap / "terraform-mapping-embed.json").write_text(json.dumps(mapping, separators=(",", ":")))
    build.go("mod", "tidy")
    build.go("build", "-ldflags", f"-s -w -X {module}/pkg/version.Version={version}",
             "-o", str(build.out / "pulumi-resource-kubernetes"), ".")
    build.smoke_plugin("pulumi-resource-kubernetes")


def build_etcd(build: Build) -> None:
    """etcd's server module (its go.mod's local replaces are ignored in a dependency, and it builds without them)."""
    version = PINS["ETCD_VERSION"]
    build.module("etcd")
    build.go("get", "-tool", f"go.etcd.io/etcd/server/v3@{version}")
    build.go("build", "-ldflags", "-s -w", "-o", str(build.out / "etcd"), "go.etcd.io/etcd/server/v3")
    build.smoke("etcd", ["--version"], _bare(version))


def build_kubernetes(build: Build) -> None:
    """kube-apiserver, kube-controller-manager and kube-scheduler, with the staging modules at their tags."""
    version = PINS["KUBERNETES_VERSION"]
    staging = "v0" + version[2:]  # k8s.io/kubernetes v1.37.2 <-> k8s.io/api v0.37.2 (kubernetes/kubernetes#79384)
    build.module("kubernetes")
    info = json.loads(build.go("mod", "download", "-json", f"k8s.io/kubernetes@{version}"))
    gomod = Path(info["GoMod"]).read_text()
    # k8s.io/kubernetes requires its staging modules at v0.0.0 through `=> ./staging/...` replaces, which a
    # dependency's go.mod cannot carry: restate each against the published tag.
    modules = re.findall(r"^\s*(k8s\.io/[a-z0-9-]+) => \./staging/", gomod, re.MULTILINE)
    if not modules:
        raise BuildError(f"no staging replaces found in k8s.io/kubernetes@{version}'s go.mod")
    build.go("mod", "edit", f"-require=k8s.io/kubernetes@{version}", *(f"-replace={m}={m}@{staging}" for m in modules))
    commands = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    build.go("get", "-tool", *(f"k8s.io/kubernetes/cmd/{c}" for c in commands))
    major, minor = version[1:].split(".")[:2]
    # Without these, the binaries say v0.0.0-master and the kubernetes provider refuses the cluster.
    stamp = " ".join(
        f"-X {pkg}.{k}={v}"
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for k, v in (("gitVersion", version), ("gitMajor", major), ("gitMinor", minor), ("gitTreeState", "clean"))
    )
    build.go("build", "-ldflags", f"-s -w {stamp}", "-o", str(build.out) + "/",
             *(f"k8s.io/kubernetes/cmd/{c}" for c in commands))
    for command in commands:
        build.smoke(command, ["--version"], f"Kubernetes {version}")


def build_kwok(build: Build) -> None:
    """kwok, which simulates nodes (and their pods) in the API server so DaemonSets have somewhere to roll."""
    version = PINS["KWOK_VERSION"]
    build.module("kwok")
    build.go("get", "-tool", f"sigs.k8s.io/kwok/cmd/kwok@{version}")
    build.go("build", "-ldflags", f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={_bare(version)}",
             "-o", str(build.out / "kwok"), "sigs.k8s.io/kwok/cmd/kwok")
    build.smoke("kwok", ["--version"], _bare(version))
    # kwok plays kubelets through "stages"; kwokctl writes upstream's default set into its config, the bare binary
    # needs them passed with --config. Copy that set (kustomize/stage/fast: node-initialize, heartbeat with lease,
    # pod ready/complete/delete) out of the module, as data beside the binary.
    stages = build.module_dir("sigs.k8s.io/kwok") / "kustomize" / "stage"
    files = [stages / "node" / "fast" / "node-initialize.yaml",
             stages / "node" / "heartbeat-with-lease" / "node-heartbeat-with-lease.yaml",
             *(stages / "pod" / "fast" / f"pod-{n}.yaml" for n in ("ready", "complete", "delete"))]
    (build.out / "kwok-stages.yaml").write_text("\n---\n".join(f.read_text().strip() for f in files) + "\n")


COMPONENTS: List[Component] = [
    Component("pulumi", PINS["PULUMI_VERSION"], ["pulumi"], build_pulumi),
    Component("pulumi-language-python-standin", PINS["PULUMI_VERSION"],
              ["pulumi-language-python", "pulumi-language-python-exec"], build_python_host,
              [STANDINS / "python-host" / "main.go"]),
    Component("pulumi-language-yaml", PINS["PULUMI_YAML_VERSION"], ["pulumi-language-yaml"], build_yaml_host),
    Component("pulumi-resource-kubernetes", PINS["KUBERNETES_PROVIDER_VERSION"], ["pulumi-resource-kubernetes"],
              build_kubernetes_provider, [HERE / "kubernetes-provider" / "main.go"]),
    Component("pulumi-resource-random-standin", PINS["PULUMI_RANDOM_SDK_PY"], ["pulumi-resource-random"],
              build_random_standin, [STANDINS / "random-provider" / "main.go"]),
    Component("etcd", PINS["ETCD_VERSION"], ["etcd"], build_etcd),
    Component("kubernetes", PINS["KUBERNETES_VERSION"],
              ["kube-apiserver", "kube-controller-manager", "kube-scheduler"], build_kubernetes),
    Component("kwok", PINS["KWOK_VERSION"], ["kwok", "kwok-stages.yaml"], build_kwok),
]


def go_version() -> str:
    """`go1.26.8`: part of every key, since a new Go compiles different bytes."""
    return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()


def progress(message: str) -> None:
    """One progress line on stderr (stdout carries only the result)."""
    print(f"[toolchain] {message}", file=sys.stderr, flush=True)


def ensure(component: Component, cache: Path, gover: str) -> Path:
    """The component's keyed directory, built first if it is missing."""
    key = component.key(gover)
    done = cache / "bin" / key
    if all((done / b).exists() for b in component.binaries):
        return done
    staging = cache / "bin" / f".{key}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    log = cache / "logs" / f"{key}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    component.recipe(Build(component, cache / "wrap" / component.name, staging, log))
    missing = [b for b in component.binaries if not (staging / b).exists()]
    if missing:
        raise BuildError(f"the recipe did not produce {', '.join(missing)}; log: {log}")
    if done.exists():
        shutil.rmtree(done)
    staging.rename(done)  # atomic: a directory under its key is always whole
    return done


def link_all(cache: Path, dirs: Dict[str, Path]) -> Path:
    """One directory holding every binary (hard links), named by the keys it holds: the PATH the tests use."""
    digest = hashlib.sha256("\n".join(sorted(str(d) for d in dirs.values())).encode()).hexdigest()[:12]
    target = cache / "toolchains" / digest / "bin"
    if target.exists():
        return target
    staging = target.parent.with_name(f".{digest}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "bin").mkdir(parents=True)
    for directory in dirs.values():
        for binary in directory.iterdir():
            try:
                os.link(binary, staging / "bin" / binary.name)
            except OSError:
                shutil.copy2(binary, staging / "bin" / binary.name)
    staging.rename(target.parent)
    return target


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Build what is missing, print the bin directory; exit 1 with one clear line on failure."""
    parser = argparse.ArgumentParser(prog="scripts/toolchain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="build only this component (repeatable): " + ", ".join(c.name for c in COMPONENTS))
    parser.add_argument("--check", action="store_true",
                        help="build nothing: print the bin directory if everything is built, else exit 3")
    args = parser.parse_args(argv)
    if shutil.which("go") is None:
        progress("go is not on PATH; install Go >= 1.26 (the machine image has it)")
        return 1
    cache = engine_cache()
    cache.mkdir(parents=True, exist_ok=True)
    wanted = [c for c in COMPONENTS if not args.only or c.name in args.only]
    if args.only and len(wanted) != len(set(args.only)):
        progress(f"unknown component in --only {args.only}; known: {', '.join(c.name for c in COMPONENTS)}")
        return 2
    free = shutil.disk_usage(cache).free
    started = time.monotonic()
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time per cache; a second run waits, then finds it all
        gover = go_version()
        if args.check:
            missing = [c.name for c in wanted if not all((cache / "bin" / c.key(gover) / b).exists()
                                                          for b in c.binaries)]
            if missing:
                progress(f"not built: {', '.join(missing)}; run bash scripts/toolchain")
                return 3
            print(link_all(cache, {c.name: cache / "bin" / c.key(gover) for c in wanted}))
            return 0
        dirs = {}
        for component in wanted:
            began = time.monotonic()
            key_dir = cache / "bin" / component.key(gover)
            cached = all((key_dir / b).exists() for b in component.binaries)
            if not cached and free < 8 * 2**30:
                progress(f"only {free / 2**30:.1f} GiB free under {cache}; a cold build needs about 8 GiB")
            try:
                dirs[component.name] = ensure(component, cache, gover)
            except BuildError as err:
                progress(f"{component.name} {component.version}: FAILED after {time.monotonic() - began:.1f} s: {err}")
                return 1
            except Exception as err:  # a recipe's own bug: one line and the log, never a traceback
                log = cache / "logs" / f"{component.key(gover)}.log"
                progress(f"{component.name} {component.version}: FAILED after {time.monotonic() - began:.1f} s: "
                         f"{type(err).__name__}: {err}. Log: {log}")
                return 1
            state = "cached" if cached else "built"
            progress(f"{component.name} {component.version}: {state} in {time.monotonic() - began:.1f} s")
        bin_dir = link_all(cache, dirs) if not args.only else None
    progress(f"total {time.monotonic() - started:.1f} s")
    if bin_dir:
        print(bin_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
