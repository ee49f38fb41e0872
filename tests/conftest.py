"""Shared fixtures: one event loop for Pulumi's mock runtime, and the real registry."""

import asyncio
import os
from typing import Iterator

import pytest

from support.agent import agents, root  # noqa: F401  (re-exported fixtures of the agent tests)
from support.registry import real_registry  # noqa: F401  (re-exported fixture)
from support.tls_registry import tls_basic_registry, tls_token_registry  # noqa: F401  (re-exported fixtures)

# No test checks credentials against a registry unless it asks to (fake hosts like harbor.example.com
# must not cost network calls or add warnings); the verify tests set `verify` explicitly or unset this.
os.environ["REGISTRY_CREDENTIALS_VERIFY"] = "off"


@pytest.fixture(scope="session", autouse=True)
def pulumi_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One loop for the session: Pulumi's SDK expects a current loop, and per-test loops leak threads."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
