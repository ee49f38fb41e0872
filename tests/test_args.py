"""Constrained strings are str Enums for the schema; Python callers and stack config keep passing plain strings."""

import pytest

from registry_credentials import ForeignPullSecrets, RegistryCredentials
from registry_credentials.cli.mockrun import run_program

SA = "kubernetes:core/v1:ServiceAccount"
PATCH = "kubernetes:core/v1:ServiceAccountPatch"
REGISTRY = {"server": "harbor.example.com", "username": "robot$puller", "password": "Harb0r-S3cret"}
LIVE = {(SA, "apps/default"): {"imagePullSecrets": [{"name": "theirs"}], "metadata": {"managedFields": []}}}


@pytest.mark.parametrize("mode", ["keep", ForeignPullSecrets.KEEP], ids=["plain string", "enum member"])
def test_keep_as_a_string_or_the_enum_member_keeps_foreign_entries_and_retains_the_patch(mode):
    args = {"registries": [REGISTRY], "namespaces": [{"name": "apps", "foreign_pull_secrets": mode}], "secret_name": "rc"}
    run = run_program(lambda: RegistryCredentials("rc", args), live=LIVE)
    (patch,) = run.of_type(PATCH)
    assert patch.inputs["imagePullSecrets"] == [{"name": "theirs"}, {"name": "rc"}]
    assert patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"
    assert patch.retain_on_delete is True

