"""The one schema-version check for every JSON document the toolkit writes and reads back.

Export reports, bench reports and the facts embedded in a model file all carry a ``schema`` field
(``seaformer-deploy/<kind>@<version>``). A reader accepts exactly the version it was written for: a file of
another version, or JSON that is not one of our documents at all, is one clear ``SchemaError`` (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seaformer_deploy.errors import UsageError

SCHEMA_KEY = "schema"


class SchemaError(UsageError):
    """A document has another schema version than the reader expects, or is not one of our documents."""


def check_schema(data: object, expected: str, what: str) -> dict[str, Any]:
    """Return ``data`` as a dict when its ``schema`` field equals ``expected``; else raise ``SchemaError``.

    ``what`` names the document in the message (a file path, "model metadata", ...).
    """
    if not isinstance(data, dict):
        raise SchemaError(f"{what} is not a {expected} document (it is a JSON {_json_type(data)})")
    found = data.get(SCHEMA_KEY)
    if found is None:
        raise SchemaError(f"{what} is not a {expected} document (it has no {SCHEMA_KEY!r} field)")
    if found != expected:
        raise SchemaError(f"{what} has schema {found!r}, this version of seaformer-deploy reads {expected!r}")
    return data


def read_json_document(path: Path, what: str) -> Any:
    """The JSON value in the file at ``path``, for a reader of ``what`` documents ("bench report", ...).

    A missing, unreadable, empty or non-JSON file is one ``SchemaError`` naming ``what`` and the path; the caller
    then checks the schema of the value (``check_schema``).
    """
    if not path.is_file():
        raise SchemaError(f"{what} {path} does not exist" if not path.exists() else f"{what} {path} is not a file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{what} {path} is not readable JSON: {exc}") from None
    if not text.strip():
        raise SchemaError(f"{what} {path} is empty (an interrupted run or copy?)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{what} {path} is not readable JSON: {exc}") from None


def _json_type(data: object) -> str:
    if isinstance(data, list):
        return "array"
    if isinstance(data, str):
        return "string"
    if isinstance(data, bool):
        return "boolean"
    if isinstance(data, (int, float)):
        return "number"
    return "null" if data is None else type(data).__name__
