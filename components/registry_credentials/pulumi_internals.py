"""The Pulumi Python SDK's private names this package relies on, wrapped here and nowhere else.

Written against pulumi 3.272.0 (the floor in pyproject.toml is 3.260); each wrapper names the SDK file it reaches
into. When an SDK upgrade breaks one, this is the only module to change.
"""

import asyncio
from contextlib import contextmanager
from typing import Any, Awaitable, Callable, Iterator, List, Optional, Sequence, Tuple, TypeVar

import pulumi
from google.protobuf import struct_pb2
from pulumi.provider import Provider
from pulumi.provider import server as provider_server
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc, sync_await
from pulumi.runtime import settings as runtime_settings

T = TypeVar("T")


def run_sync(awaitable: Awaitable[T]) -> T:
    """Run an awaitable to completion from synchronous code on the current loop (sdk/python/lib/pulumi/runtime/
    sync_await.py `_sync_await`: what the SDK's own mock monitor uses)."""
    return sync_await._sync_await(awaitable)


def ensure_event_loop() -> None:
    """Make sure the calling thread has an event loop (runtime/sync_await.py `_ensure_event_loop`)."""
    sync_await._ensure_event_loop()


def is_wire_secret(value: Any) -> bool:
    """Whether a protobuf Value is a secret envelope as the SDK serialises one (runtime/rpc.py `_special_sig_key`,
    `_special_secret_sig`)."""
    struct = value.struct_value if value.HasField("struct_value") else None
    return struct is not None and struct.fields.get(rpc._special_sig_key) is not None and \
        struct.fields[rpc._special_sig_key].string_value == rpc._special_secret_sig


def wire_secret(value: Any) -> dict:
    """A secret envelope around `value` without the output-value wrapper (runtime/rpc.py `_special_secret_sig`)."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def wire_output_value(**fields: Any) -> dict:
    """An output value as the engine sends one (runtime/rpc.py `_special_output_value_sig`)."""
    return {rpc._special_sig_key: rpc._special_output_value_sig, **fields}


def unwrap_wire(value: struct_pb2.Value) -> Tuple[Optional[struct_pb2.Value], bool]:
    """A protobuf Value as the engine sent it, out of its secret or output-value envelopes: the value inside (None
    when unknown) and whether an envelope marked it secret (runtime/rpc.py `_special_secret_sig`,
    `_special_output_value_sig`: an output value holds `value`, unless unknown, and `secret`)."""
    secret = False
    while value.HasField("struct_value"):
        fields = value.struct_value.fields
        signature = fields[rpc._special_sig_key].string_value if rpc._special_sig_key in fields else None
        if signature == rpc._special_secret_sig:
            secret = True
        elif signature == rpc._special_output_value_sig:
            secret = secret or ("secret" in fields and fields["secret"].bool_value)
        else:
            break  # a plain object, or an asset, archive or resource reference
        if "value" not in fields:
            return None, secret
        value = fields["value"]
    if value.HasField("string_value") and value.string_value == rpc.UNKNOWN:
        return None, secret
    return value, secret


def serve_checking_inputs(provider: Provider, args: Sequence[str],
                          check: Callable[[str, struct_pb2.Struct], None]) -> None:
    """Serve `provider` as pulumi.provider.main does, calling `check(type, inputs)` on every Construct request's
    inputs as the engine sent them, before the SDK deserializes them.

    The SDK's deserializer pushes a nested secret's secretness up to the enclosing list or map
    (runtime/rpc.py deserialize_property), so which property was sent secret is known only on the wire. `check`
    raises pulumi.errors.InputPropertiesError to refuse: ProviderServicer.Construct (provider/server.py) answers
    it as INVALID_ARGUMENT, since `_construct` runs inside it. `main` builds its servicer from the module's
    ProviderServicer, which is swapped for the checking one while it serves.
    """
    class CheckingServicer(provider_server.ProviderServicer):
        async def _construct(self, request: Any, context: Any) -> Any:  # noqa: D401 -- the SDK's hook
            check(request.type, request.inputs)
            return await super()._construct(request, context)

    original = provider_server.ProviderServicer
    provider_server.ProviderServicer = CheckingServicer  # type: ignore[misc]
    try:
        provider_server.main(provider, list(args))
    finally:
        provider_server.ProviderServicer = original  # type: ignore[misc]


def resolved_data(value: pulumi.Output) -> Optional[Any]:
    """An Output's value, known-ness, secretness and dependencies if it has already resolved, else None.

    output.py keeps them together in `Output._data` since pulumi/pulumi#22661 (before 3.260). Construct runs
    synchronously inside the provider server's event loop, so it cannot await, and the output values the engine
    sends are built from completed futures (runtime/rpc.py deserialize_output_value).
    """
    data = getattr(value, "_data", None)
    if isinstance(data, asyncio.Future) and data.done() and not data.cancelled() and data.exception() is None:
        return data.result()
    return None


def config_keys() -> List[str]:
    """Every config key of the running program: those set through the runtime (mocks, providers) and through
    PULUMI_CONFIG, which is how the Python language host hands a program its config (runtime/config.py `CONFIG`,
    `get_config_env`; pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go)."""
    return sorted({*runtime_config.CONFIG.get(), *(runtime_config.get_config_env() or {})})


def record_read(monitor: runtime_mocks.MockMonitor, urn: str, resource_id: str, state: dict) -> None:
    """Register a read with the SDK's mock monitor as its own ReadResource does (runtime/mocks.py
    `MockMonitor.resources`, `ResourceRegistration`)."""
    monitor.resources[urn] = runtime_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)


@contextmanager
def fresh_runtime() -> Iterator[None]:
    """Run a program with its own runtime settings and root stack, restoring the caller's afterwards
    (runtime/settings.py `SETTINGS`, `ROOT`: module state that set_mocks replaces)."""
    old = runtime_settings.SETTINGS
    old_root = runtime_settings.get_root_resource()
    runtime_settings.ROOT.set(None)
    try:
        yield
    finally:
        runtime_settings.configure(old)
        runtime_settings.ROOT.set(old_root)
