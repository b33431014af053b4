"""The one reader of ``.tflite`` files: export (metadata), lint (graph) and bench (profiles) all parse here.

A TFLite model is a flatbuffer with the ``TFL3`` identifier; some writers (ai-edge-quantizer) store tensor
data after it and point at it with offset/size. The file is unpacked completely with ai-edge-litert's generated
object API and every out-of-flatbuffer buffer is checked to lie inside the file, so a truncated copy (an
interrupted ``adb pull`` or download) or a corrupt file is found here, once, and reported as one
``TfliteFileError`` line instead of whatever the generated accessors happen to raise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seaformer_deploy.errors import UsageError

TFLITE_IDENTIFIER = b"TFL3"


class TfliteFileError(UsageError):
    """A file that should be a TFLite model is missing, unreadable, not TFLite, truncated or corrupt."""


@dataclass(frozen=True)
class TfliteFile:
    """A parsed TFLite model: the raw bytes and the unpacked flatbuffer (``schema_py_generated.ModelT``)."""

    source: str
    data: bytes
    model: Any

    def metadata(self, name: str) -> bytes | None:
        """The bytes of the metadata entry called ``name``, or None when the model has none."""
        for entry in self.model.metadata or []:
            if _text(entry.name) == name:
                return self.buffer_bytes(entry.buffer)
        return None

    def buffer_bytes(self, index: int) -> bytes:
        """The contents of buffer ``index``, inline or stored after the flatbuffer."""
        buffers = self.model.buffers or []
        if not 0 <= index < len(buffers):
            raise TfliteFileError(f"{self.source}: corrupt TFLite model (refers to buffer {index} of {len(buffers)})")
        buffer = buffers[index]
        if buffer.offset > 1:
            return self.data[buffer.offset : buffer.offset + buffer.size]
        return bytes(bytearray(buffer.data)) if buffer.data is not None else b""


def _text(name: bytes | str | None) -> str:
    return name.decode("utf-8", errors="replace") if isinstance(name, bytes) else (name or "")


def read_tflite(path: str | os.PathLike[str]) -> TfliteFile:
    """Read and parse the ``.tflite`` file at ``path``; any problem is one ``TfliteFileError``."""
    file = Path(path)
    if not file.is_file():
        raise TfliteFileError(f"{file}: model file not found")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise TfliteFileError(f"{file}: cannot read the model file ({exc.strerror})") from None
    return parse_tflite(data, str(file))


def parse_tflite(data: bytes, source: str) -> TfliteFile:
    """Parse TFLite model bytes; ``source`` names them in errors (a path, usually)."""
    from ai_edge_litert import schema_py_generated as schema

    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise TfliteFileError(f"{source}: not a TFLite model (missing the TFL3 file identifier)")
    try:
        model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception:  # noqa: BLE001 - the generated reader fails in many ways (struct, index, numpy) on bad bytes
        raise TfliteFileError(
            f"{source}: truncated or corrupt TFLite model ({len(data)} bytes; copy or export it again)"
        ) from None
    for buffer in model.buffers or []:
        if buffer is not None and buffer.offset > 1 and buffer.offset + buffer.size > len(data):
            raise TfliteFileError(
                f"{source}: truncated or corrupt TFLite model ({len(data)} bytes, but weights end at byte "
                f"{buffer.offset + buffer.size}; copy or export it again)"
            )
    if not model.subgraphs:
        raise TfliteFileError(f"{source}: TFLite model has no subgraph")
    return TfliteFile(source=source, data=bytes(data), model=model)
