"""Outputs built by hand, where the SDK's combinators would add tasks or dependencies that nothing needs."""

from typing import Any, Awaitable, Callable, Generator

import pulumi


class Later:
    """An awaitable that makes its coroutine when awaited: none is left un-awaited when the value before it fails.

    `pulumi.Output(...)` awaits its value, then known-ness, then secretness; a coroutine made up front and never
    reached warns "coroutine ... was never awaited".
    """

    def __init__(self, make: Callable[[], Awaitable[Any]]) -> None:
        self._make = make

    def __await__(self) -> Generator[Any, None, Any]:
        return self._make().__await__()


def without_resources(output: pulumi.Output) -> pulumi.Output:
    """`output`'s value, known-ness and secretness, depending on no resource: awaiting it still waits for them all."""
    return pulumi.Output(set(), Later(output.future), Later(output.is_known), Later(output.is_secret))
