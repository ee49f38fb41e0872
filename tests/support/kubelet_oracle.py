"""Go itself as the oracle for how the kubelet reads config.json: a tiny program, built once per test session.

The program decodes each file with Go's encoding/json into structs of the kubelet's shape
(kubernetes/kubernetes pkg/credentialprovider/config.go: DockerConfigJSON {auths, HttpHeaders}, a
DockerConfigEntry whose UnmarshalJSON reads username/password/email/auth and splits a base64 `auth`, StdEncoding
when it ends in "=", else RawStdEncoding) and prints what it got. Standard library only, no network: the local
Go toolchain (GOTOOLCHAIN=local) in its default build (no GOEXPERIMENT, as Kubernetes is built).

Its `keyring` mode then does what the kubelet does with those configs for one pull (`tried()`): each pull Secret
is added in imagePullSecrets order to one BasicDockerKeyring, the node file to another, and the pull tries the
first's matches, then the second's (pkg/credentialprovider/keyring.go `Add`, `Lookup`, `URLsMatchStr`,
`UnionDockerKeyring`; pkg/credentialprovider/secrets/secrets.go `MakeDockerKeyring`). `Add` ranges over the
decoded Go map, so this is Go's own map order, url.Parse, net.SplitHostPort and filepath.Match, not a model of
them. Passwords never leave the program: it prints each credential's username and a digest of its password.
"""

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

Credentials = Dict[str, Tuple[str, str, str]]
"""registry key -> (username, password, email) as the kubelet ends up with them."""

PROGRAM = r'''
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The kubelet's shapes: field names and tags as in pkg/credentialprovider/config.go.
type dockerConfigJSON struct {
	Auths       dockerConfig      `json:"auths"`
	HTTPHeaders map[string]string `json:"HttpHeaders,omitempty"`
}

type dockerConfig map[string]dockerConfigEntry

type dockerConfigEntry struct {
	Username string
	Password string
	Email    string
}

type entryWithAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Email    string `json:"email,omitempty"`
	Auth     string `json:"auth,omitempty"`
}

func (e *dockerConfigEntry) UnmarshalJSON(data []byte) error {
	var fields entryWithAuth
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	e.Username, e.Password, e.Email = fields.Username, fields.Password, fields.Email
	if fields.Auth == "" {
		return nil
	}
	decode := base64.RawStdEncoding.DecodeString
	if strings.HasSuffix(strings.TrimSpace(fields.Auth), "=") {
		decode = base64.StdEncoding.DecodeString
	}
	decoded, err := decode(fields.Auth)
	if err != nil {
		return err
	}
	user, password, found := strings.Cut(string(decoded), ":")
	if !found {
		return errors.New("auth is not user:password")
	}
	e.Username, e.Password = user, password
	return nil
}

type result struct {
	OK      bool              `json:"ok"`
	Auths   dockerConfig      `json:"auths"`
	Headers map[string]string `json:"headers"`
}

// The keyring, as pkg/credentialprovider/keyring.go builds and searches it.
type tracked struct {
	Source   string `json:"source"`
	Username string `json:"username"`
	Password string `json:"passwordSha256"`
}

type keyring struct {
	index []string
	creds map[string][]tracked
}

func (k *keyring) add(source string, cfg dockerConfig) {
	if k.creds == nil {
		k.creds = map[string][]tracked{}
	}
	for loc, ident := range cfg { // a Go map: its order varies from range to range, as in the kubelet's Add
		value := loc
		if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
			value = "https://" + value
		}
		parsed, err := url.Parse(value)
		if err != nil {
			continue
		}
		path := parsed.Path
		if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/") {
			path = path[3:]
		}
		key := parsed.Host
		if len(path) > 0 && path != "/" {
			key = parsed.Host + path
		}
		digest := sha256.Sum256([]byte(ident.Password))
		k.creds[key] = append(k.creds[key], tracked{source, ident.Username, hex.EncodeToString(digest[:])})
		k.index = append(k.index, key)
	}
	seen := map[string]bool{}
	unique := []string{}
	for _, key := range k.index {
		if !seen[key] {
			seen[key] = true
			unique = append(unique, key)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(unique)))
	k.index = unique
}

func splitURL(u *url.URL) ([]string, string) {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, ""
	}
	return strings.Split(host, "."), port
}

func urlsMatch(glob, target string) bool {
	g, err := url.Parse("https://" + glob)
	if err != nil {
		return false
	}
	t, err := url.Parse("https://" + target)
	if err != nil {
		return false
	}
	gParts, gPort := splitURL(g)
	tParts, tPort := splitURL(t)
	if gPort != tPort || len(gParts) != len(tParts) || !strings.HasPrefix(t.Path, g.Path) {
		return false
	}
	for i, part := range gParts {
		if matched, err := filepath.Match(part, tParts[i]); err != nil || !matched {
			return false
		}
	}
	return true
}

func isDefaultRegistryMatch(image string) bool {
	parts := strings.SplitN(image, "/", 2)
	if len(parts[0]) == 0 {
		return false
	}
	if len(parts) == 1 || parts[0] == "docker.io" || parts[0] == "index.docker.io" {
		return true
	}
	return !strings.ContainsAny(parts[0], ".:")
}

func (k *keyring) lookup(image string) []tracked {
	found := []tracked{}
	for _, key := range k.index {
		if urlsMatch(key, image) {
			found = append(found, k.creds[key]...)
		}
	}
	if len(found) > 0 {
		return found
	}
	if auth, ok := k.creds["index.docker.io"]; ok && isDefaultRegistryMatch(image) {
		return auth
	}
	return found
}

type pull struct {
	Secrets    []string `json:"secrets"`
	Node       *string  `json:"node"`
	Repository string   `json:"repository"`
	Runs       int      `json:"runs"`
}

func decode(text string) dockerConfig {
	var cfg dockerConfigJSON
	if err := json.Unmarshal([]byte(text), &cfg); err != nil {
		panic(err)
	}
	return cfg.Auths
}

// keyringMain prints every distinct order in which `runs` pulls would try the credentials.
func keyringMain(name string) {
	data, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	var p pull
	if err := json.Unmarshal(data, &p); err != nil {
		panic(err)
	}
	secrets := []dockerConfig{}
	for _, text := range p.Secrets {
		secrets = append(secrets, decode(text))
	}
	orders := [][]tracked{}
	seen := map[string]bool{}
	for run := 0; run < p.Runs; run++ {
		pod, node := &keyring{}, &keyring{}
		for i, cfg := range secrets {
			pod.add("secret"+string(rune('0'+i)), cfg)
		}
		if p.Node != nil {
			node.add("node", decode(*p.Node))
		}
		tried := append(pod.lookup(p.Repository), node.lookup(p.Repository)...)
		key, _ := json.Marshal(tried)
		if !seen[string(key)] {
			seen[string(key)] = true
			orders = append(orders, tried)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(orders); err != nil {
		panic(err)
	}
}

func main() {
	if os.Args[1] == "keyring" {
		keyringMain(os.Args[2])
		return
	}
	legacy := os.Args[1] == "dockercfg"
	out := json.NewEncoder(os.Stdout)
	for _, name := range os.Args[2:] {
		data, err := os.ReadFile(name)
		if err != nil {
			panic(err)
		}
		var r result
		if legacy {
			r.OK = json.Unmarshal(data, &r.Auths) == nil
		} else {
			var cfg dockerConfigJSON
			r.OK = json.Unmarshal(data, &cfg) == nil
			r.Auths, r.Headers = cfg.Auths, cfg.HTTPHeaders
		}
		if err := out.Encode(r); err != nil {
			panic(err)
		}
	}
}
'''


@functools.lru_cache(maxsize=None)
def binary() -> Path:
    """Build the oracle (once per process) and return its path."""
    go = shutil.which("go")
    assert go, "the Go toolchain is needed as the kubelet-JSON oracle (go 1.26 on PATH); install it"
    directory = Path(tempfile.mkdtemp(prefix="kubelet-oracle-"))
    (directory / "go.mod").write_text("module kubeletoracle\n\ngo 1.26\n")
    (directory / "main.go").write_text(PROGRAM)
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local", "GOEXPERIMENT": "", "CGO_ENABLED": "0"}
    built = subprocess.run([go, "build", "-o", "oracle", "."], cwd=directory, env=env, capture_output=True,
                           text=True, timeout=600)
    assert built.returncode == 0, f"building the Go oracle failed: {built.stderr[-2000:]}"
    return directory / "oracle"


def read_many(files: Sequence[bytes], legacy: bool = False) -> List[Optional[Dict[str, object]]]:
    """What Go's kubelet-shaped decode makes of each file: None when it fails, else {"auths": ..., "headers": ...}."""
    with tempfile.TemporaryDirectory(prefix="kubelet-oracle-in-") as scratch:
        paths = []
        for number, data in enumerate(files):
            path = Path(scratch) / f"{number}.json"
            path.write_bytes(data)
            paths.append(str(path))
        run = subprocess.run([str(binary()), "dockercfg" if legacy else "config", *paths], capture_output=True,
                             text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    answers: List[Optional[Dict[str, object]]] = []
    for line in run.stdout.splitlines():
        got = json.loads(line)
        if not got["ok"]:
            answers.append(None)
            continue
        auths = {key: (v["Username"], v["Password"], v["Email"]) for key, v in (got["auths"] or {}).items()}
        answers.append({"auths": auths, "headers": got["headers"] or {}})
    assert len(answers) == len(files)
    return answers


def read(data: bytes, legacy: bool = False) -> Optional[Dict[str, object]]:
    """read_many() of one file."""
    return read_many([data], legacy)[0]


def credentials(data: bytes) -> Optional[Credentials]:
    """The registry credentials the kubelet takes from config.json bytes; None when it skips the file."""
    got = read(data)
    return None if got is None else got["auths"]  # type: ignore[return-value]


Tried = Tuple[Tuple[str, str, str], ...]
"""One pull's credentials in the order it tries them: (source, username, sha256 of the password); the source is
`secret<N>` (the N-th of the pod's imagePullSecrets) or `node`."""


def tried(repository: str, secrets: Sequence[str] = (), node: Optional[str] = None, runs: int = 400) -> Set[Tried]:
    """Every order in which `runs` pulls of `repository` try the credentials of these pull Secrets (their
    `.dockerconfigjson` texts, in imagePullSecrets order) and this node file, as the kubelet's keyring does."""
    with tempfile.TemporaryDirectory(prefix="kubelet-oracle-pull-") as scratch:
        request = Path(scratch) / "pull.json"
        request.write_text(json.dumps({"secrets": list(secrets), "node": node, "repository": repository,
                                       "runs": runs}))
        run = subprocess.run([str(binary()), "keyring", str(request)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    orders = json.loads(run.stdout)
    return {tuple((c["source"], c["username"], c["passwordSha256"]) for c in order) for order in orders}


def digest(password: str) -> str:
    """How `tried` names a password."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()
