"""Key facts (variant, size, layout, normalization, classes, output mode, quantization) inside the model file.

TFLite: a named entry in the flatbuffer's ``metadata`` table, edited with ai-edge-litert's generated schema
object API. ONNX: a ``metadata_props`` entry. Both hold the same JSON, so a model file alone says how to feed it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from seaformer_deploy.errors import UsageError

METADATA_KEY = "seaformer_deploy"
_TFLITE_IDENTIFIER = b"TFL3"


def embed_tflite_metadata(model_bytes: bytes, facts: dict[str, Any]) -> bytes:
    """Return ``model_bytes`` with ``facts`` stored (or replaced) under the ``seaformer_deploy`` metadata name."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    # Some writers (ai-edge-quantizer) store tensor data after the flatbuffer and point at it with offset/size;
    # repacking moves everything, so such data is inlined into its buffer first.
    for stored in model.buffers or []:
        if stored.offset and stored.offset > 1:
            stored.data = np.frombuffer(model_bytes, dtype=np.uint8, count=stored.size, offset=stored.offset)
            stored.offset = 0
            stored.size = 0
    buffer = schema.BufferT()
    buffer.data = list(json.dumps(facts, sort_keys=True).encode())
    model.buffers = list(model.buffers or [])
    model.metadata = [m for m in (model.metadata or []) if _name(m.name) != METADATA_KEY]
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_KEY
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(len(model_bytes) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=_TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def _name(name: bytes | str | None) -> str:
    return name.decode() if isinstance(name, bytes) else (name or "")


def read_tflite_metadata(path: str | Path) -> dict[str, Any] | None:
    """The ``seaformer_deploy`` facts stored in a .tflite file, or None when it has none."""
    from ai_edge_litert import schema_py_generated as schema

    data = bytearray(Path(path).read_bytes())
    try:
        model = schema.Model.GetRootAs(data, 0)
        for index in range(model.MetadataLength()):
            entry = model.Metadata(index)
            if _name(entry.Name()) == METADATA_KEY:
                return json.loads(model.Buffers(entry.Buffer()).DataAsNumpy().tobytes())
    except (IndexError, ValueError, AttributeError) as exc:
        raise UsageError(f"{path} is not a readable TFLite model: {exc}") from None
    return None


def embed_onnx_metadata(path: str | Path, facts: dict[str, Any]) -> None:
    """Store ``facts`` in the ONNX file's ``metadata_props`` (rewrites the file in place)."""
    import onnx

    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=METADATA_KEY, value=json.dumps(facts, sort_keys=True))
    onnx.save(model, str(path))


def read_onnx_metadata(path: str | Path) -> dict[str, Any] | None:
    """The ``seaformer_deploy`` facts stored in an .onnx file, or None when it has none."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises untyped decode errors
        raise UsageError(f"{path} is not a readable ONNX model: {exc}") from None
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            return json.loads(prop.value)
    return None


def read_model_metadata(path: str | Path) -> dict[str, Any] | None:
    """The embedded facts of a .tflite or .onnx model file."""
    return read_tflite_metadata(path) if Path(path).suffix == ".tflite" else read_onnx_metadata(path)
