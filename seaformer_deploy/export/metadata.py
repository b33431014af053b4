"""Key facts (variant, size, layout, normalization, classes, output mode, quantization) inside the model file.

TFLite: a named entry in the flatbuffer's ``metadata`` table, edited with ai-edge-litert's generated schema
object API (the file is parsed by ``seaformer_deploy.tflite_file``). ONNX: a ``metadata_props`` entry. Both
hold the same JSON (``ModelFacts.to_dict``), so a model file alone says how to feed it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from seaformer_deploy.errors import UsageError, first_line
from seaformer_deploy.model_facts import ModelFacts
from seaformer_deploy.tflite_file import TFLITE_IDENTIFIER, parse_tflite, read_tflite

METADATA_KEY = "seaformer_deploy"


def embed_tflite_metadata(model_bytes: bytes, facts: ModelFacts, source: str = "TFLite model") -> bytes:
    """Return ``model_bytes`` with ``facts`` stored (or replaced) under the ``seaformer_deploy`` metadata name."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    parsed = parse_tflite(model_bytes, source)
    model = parsed.model
    # Some writers (ai-edge-quantizer) store tensor data after the flatbuffer and point at it with offset/size;
    # repacking moves everything, so such data is inlined into its buffer first.
    for stored in model.buffers or []:
        if stored.offset and stored.offset > 1:
            stored.data = np.frombuffer(model_bytes, dtype=np.uint8, count=stored.size, offset=stored.offset)
            stored.offset = 0
            stored.size = 0
    buffer = schema.BufferT()
    buffer.data = list(_encode(facts))
    model.buffers = list(model.buffers or [])
    model.metadata = [m for m in (model.metadata or []) if _name(m.name) != METADATA_KEY]
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_KEY
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(len(model_bytes) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def _encode(facts: ModelFacts) -> bytes:
    return json.dumps(facts.to_dict(), sort_keys=True).encode()


def _name(name: bytes | str | None) -> str:
    return name.decode() if isinstance(name, bytes) else (name or "")


def _decode(raw: bytes | str, path: str | Path) -> ModelFacts:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(f"{path}: its seaformer-deploy metadata is not JSON") from None
    return ModelFacts.from_dict(data, f"{path} metadata")


def read_tflite_facts(path: str | Path) -> ModelFacts | None:
    """The ``seaformer_deploy`` facts stored in a .tflite file, or None when it has none."""
    raw = read_tflite(path).metadata(METADATA_KEY)
    return None if raw is None else _decode(raw, path)


def embed_onnx_metadata(path: str | Path, facts: ModelFacts) -> None:
    """Store ``facts`` in the ONNX file's ``metadata_props`` (rewrites the file in place)."""
    import onnx

    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=METADATA_KEY, value=_encode(facts).decode())
    onnx.save(model, str(path))


def read_onnx_facts(path: str | Path) -> ModelFacts | None:
    """The ``seaformer_deploy`` facts stored in an .onnx file, or None when it has none."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises untyped decode errors
        raise UsageError(f"{path} is not a readable ONNX model: {first_line(exc)}") from None
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            return _decode(prop.value, path)
    return None


def read_model_facts(path: str | Path) -> ModelFacts | None:
    """The embedded facts of a .tflite or .onnx model file (None when it carries none)."""
    return read_tflite_facts(path) if Path(path).suffix == ".tflite" else read_onnx_facts(path)

