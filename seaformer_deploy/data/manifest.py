"""Manifests of generated datasets: a generated folder counts as complete only if its manifest says so.

The manifest is removed before a folder is (re)written and written last, so an interrupted run is never taken as
complete; it names every file with its SHA-256, so a damaged file makes the folder be written again.
"""

from __future__ import annotations

import json
from pathlib import Path

from seaformer_deploy.fileio import sha256_file


def manifest_is_complete(root: Path, manifest_name: str, expected: dict[str, object]) -> bool:
    """True when ``root/manifest_name`` has the ``expected`` parameters and every file it lists is intact."""
    try:
        manifest = json.loads((root / manifest_name).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or {k: manifest.get(k) for k in expected} != expected:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict):
        return False
    try:
        return all(sha256_file(root / rel) == digest for rel, digest in files.items())
    except OSError:
        return False
