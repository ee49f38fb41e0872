"""Go itself as the oracle for how the kubelet reads config.json: a tiny program, built once per test session.

The program decodes each file with Go's encoding/json into structs of the kubelet's shape
(kubernetes/kubernetes pkg/credentialprovider/config.go: DockerConfigJSON {auths, HttpHeaders}, a
DockerConfigEntry whose UnmarshalJSON reads username/password/email/auth and splits a base64 `auth`, StdEncoding
when it ends in "=", else RawStdEncoding) and prints what it got. Standard library only, no network: the local
Go toolchain (GOTOOLCHAIN=local) in its default build (no GOEXPERIMENT, as Kubernetes is built).
"""

import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

Credentials = Dict[str, Tuple[str, str, str]]
"""registry key -> (username, password, email) as the kubelet ends up with them."""

PROGRAM = r'''
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
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

func main() {
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
