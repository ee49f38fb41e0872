"""Build a tiny, deterministic, one-layer OCI image layout with the standard library only.

The layout (``oci-layout``, ``index.json``, ``blobs/sha256/...``) is what ``skopeo copy oci:<dir>:<tag> ...`` reads.
Every byte is fixed: the tar has a fixed mtime, owner and mode, and gzip gets ``mtime=0`` and no file name, so the
same inputs always give the same digests (checked by the harness tests).
"""

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"

DEFAULT_TAG = "1.0"
FILE_NAME = "hello.txt"
FILE_CONTENT = b"hello from registry-credentials tests\n"


@dataclass(frozen=True)
class OciImage:
    """Where a layout was written and the digests of what is in it."""

    layout: Path
    tag: str
    manifest_digest: str  # "sha256:..." -- what `skopeo inspect` reports as Digest after a push that keeps the format
    manifest_size: int
    config_digest: str
    layer_digest: str
    diff_id: str  # sha256 of the uncompressed tar

    @property
    def reference(self) -> str:
        """The skopeo source reference, ``oci:<layout>:<tag>``."""
        return f"oci:{self.layout}:{self.tag}"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _layer_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(FILE_NAME)
        info.size = len(FILE_CONTENT)
        info.mtime = 0
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.type = tarfile.REGTYPE
        tar.addfile(info, io.BytesIO(FILE_CONTENT))
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of the build's name and time.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def build_layout(dest: Path, tag: str = DEFAULT_TAG) -> OciImage:
    """Write the OCI image layout into ``dest`` (created if needed) and return its digests."""
    dest = Path(dest)
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        digest = _digest(data)
        (blobs / digest.split(":", 1)[1]).write_bytes(data)
        return digest

    tar = _layer_tar()
    layer = _gzip(tar)
    diff_id = _digest(tar)
    layer_digest = put(layer)

    config = _canonical_json(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    )
    config_digest = put(config)

    manifest = _canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest, "size": len(layer)}],
        }
    )
    manifest_digest = put(manifest)

    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": MANIFEST_MEDIA_TYPE,
                "digest": manifest_digest,
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (dest / "index.json").write_bytes(_canonical_json(index))
    (dest / "oci-layout").write_bytes(_canonical_json({"imageLayoutVersion": "1.0.0"}))

    return OciImage(
        layout=dest,
        tag=tag,
        manifest_digest=manifest_digest,
        manifest_size=len(manifest),
        config_digest=config_digest,
        layer_digest=layer_digest,
        diff_id=diff_id,
    )
