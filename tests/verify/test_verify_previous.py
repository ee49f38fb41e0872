"""The outgoing credential of a rotation is checked too; the registry rejecting it only ever warns."""

from registry_credentials.credentials.dockerconfig import Entry
from registry_credentials.verify import program
from registry_credentials.verify.login import ACCEPTED, REJECTED, Result
from registry_credentials.verify.settings import (
    PREVIOUS_REJECTED,
    RegistrySetting,
    VerifyMode,
    previous_label,
    targets,
    warning_for,
)

ENTRY = Entry(0, "harbor.example.com", "harbor.example.com", "robot$app+new")
OLD = Entry(0, "harbor.example.com", "harbor.example.com", "robot$app+old")


def result(label, outcome):
    return Result(label, "harbor.example.com", "harbor.example.com", "u", outcome, "answered 401")


def test_the_outgoing_credential_is_a_target_of_its_own():
    found = targets([ENTRY], {0: RegistrySetting(0, VerifyMode.FAIL)}, ["new"], [(OLD, "old")])
    assert [(t.label, t.username) for t in found] == [
        ("registries[0] (harbor.example.com)", "robot$app+new"),
        ("registries[0] (harbor.example.com).previous", "robot$app+old")]
    assert targets([ENTRY], {0: RegistrySetting(0, VerifyMode.OFF)}, ["new"], [(OLD, "old")]) == []


def test_a_rejected_outgoing_credential_warns_that_previous_can_be_removed_and_never_fails(monkeypatch):
    label = previous_label(ENTRY)
    assert PREVIOUS_REJECTED in warning_for(result(label, REJECTED))
    assert warning_for(result(label, ACCEPTED)) is None
    monkeypatch.setattr(program, "check_all", lambda checks, timeout: [result(ENTRY.label(), ACCEPTED),
                                                                       result(label, REJECTED)])
    settings = {0: RegistrySetting(0, VerifyMode.FAIL)}
    warnings = program.run_checks(targets([ENTRY], settings, ["new"], [(OLD, "old")]), settings,
                                  {ENTRY.label(): 0, label: 0})
    assert len(warnings) == 1 and "previous` (and its password) can be removed" in warnings[0]
