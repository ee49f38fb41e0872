"""The Secret the stack program renders really authenticates against a real registry; wrong credentials get 401."""

from pathlib import Path

from support.registry import Registry, auth_failures, unauthorized
from support.stack import rendered_secret


def authfile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.json"
    path.write_text(text)
    return path


def test_rendered_secret_authenticates(real_registry: Registry, tmp_path: Path):
    result = real_registry.inspect(authfile(tmp_path, rendered_secret(real_registry, real_registry.password)))
    assert result.returncode == 0, result.stderr
    assert '"Digest": "sha256:' in result.stdout


def test_server_written_with_a_scheme_still_authenticates(real_registry: Registry, tmp_path: Path):
    text = rendered_secret(real_registry, real_registry.password, server=f"https://{real_registry.host}/")
    result = real_registry.inspect(authfile(tmp_path, text))
    assert result.returncode == 0, result.stderr


def test_wrong_password_gets_401(real_registry: Registry, tmp_path: Path):
    before = len(auth_failures(real_registry.log_text()))
    result = real_registry.inspect(authfile(tmp_path, rendered_secret(real_registry, "not-the-password")))
    assert result.returncode != 0
    assert unauthorized(result)
    # The credentials were sent and refused (not merely missing because of a key mismatch).
    assert auth_failures(real_registry.log_text())[before:] == [real_registry.username]
