"""The real-engine toolchain: pins, the builder, the proxy probe, a loopback control plane and the engine driver.

Development tooling of this repository (tests, benches, the demo), not part of the installed package.
"""
