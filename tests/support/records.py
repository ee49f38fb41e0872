"""Helpers to read what Pulumi's mocks recorded: unwrap secrets, scan for plaintext, validate manifests."""

import json
from typing import Iterable, List

import kubernetes_validate

from registry_credentials.cli.mockrun import Record, Run
from registry_credentials.cli.offline_preview import plain
from registry_credentials.cli.render import redact, whole_numbers

K8S_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
"""Kubernetes 1.29 and the newest schema kubernetes-validate ships."""


unwrap = plain
"""Recursively remove RPC secret envelopes, returning the plain value (the platform model's own helper)."""


def plaintext_of(run: Run) -> str:
    """Everything a run exposes in plain text: non-secret inputs, non-secret outputs, every log line."""
    # render.redact is what the offline render shows: secret subtrees replaced, only their map keys kept.
    parts = [json.dumps(redact(r.inputs), default=str) + r.name for r in run.records]
    parts += [json.dumps(v, default=str) for k, v in run.outputs.items() if k not in run.secret_outputs]
    parts += [message for _, message in run.logs]
    return "\n".join(parts)


def manifest_bodies(records: Iterable[Record]) -> List[dict]:
    """Plain manifests of declared Kubernetes objects (Patch resources included, as the object kind)."""
    return [whole_numbers(unwrap(r.inputs)) for r in records
            if r.custom and not r.read and r.typ.startswith("kubernetes:")]


def validate_strict(body: dict) -> None:
    """Raise kubernetes_validate.ValidationError unless `body` is valid for every version in K8S_VERSIONS."""
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(body, version, strict=True)
