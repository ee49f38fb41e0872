"""Plugin entry point: the Python language host runs `python <this directory> <engine address>` (RunPlugin)."""

from registry_credentials.plugin.provider import serve

if __name__ == "__main__":
    serve()
