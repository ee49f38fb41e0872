"""The offline render's first preview answers as the full platform model does in a first preview, for every stack."""

import json

import pytest

from registry_credentials.cli import render
from registry_credentials.cli.offline_preview import FirstPreview
from registry_credentials.config.stack_files import load_stack
from support.platform_model import Platform
from support.stack import PROJECT_DIR

STACKS = [(PROJECT_DIR, "dev"), (PROJECT_DIR, "prod"), (PROJECT_DIR / "examples" / "seed", "dev")]


def recorded(run) -> list:
    """What a run registered and read, in a stable order."""
    return sorted(json.dumps([r.typ, r.name, render.redact(r.inputs), r.read], sort_keys=True) for r in run.records)


@pytest.mark.parametrize("project, stack", STACKS, ids=["dev", "prod", "seed"])
def test_first_preview_matches_the_platform_model(project, stack):
    offline = render.run_stack(load_stack(project, stack), FirstPreview())
    modelled = render.run_stack(load_stack(project, stack), Platform(materialize_missing=True))
    assert recorded(offline) == recorded(modelled)
    assert offline.outputs == modelled.outputs and offline.warnings == modelled.warnings
    assert [m.to_yaml() for m in render.manifests(offline.records)] == \
        [m.to_yaml() for m in render.manifests(modelled.records)]


def test_reads_by_an_unknown_id_are_skipped_and_others_find_a_clean_object():
    engine = FirstPreview()
    assert engine.read("urn", "kubernetes:core/v1:ServiceAccount", "") == ("", None)
    assert engine.read("urn", "kubernetes:core/v1:ServiceAccount", "apps/default") == ("apps/default", {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "apps", "managedFields": []}})
    assert engine.register("urn", "kubernetes:core/v1:Secret", {"a": 1}, True, False, set(), ()) == ("", {"a": 1})
