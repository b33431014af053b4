"""ModelFacts round trip, the one schema check and the one TFLite reader (truncated real export)."""

from __future__ import annotations

import json

import pytest

from seaformer_deploy.bench.report import BENCH_SCHEMA, BenchReport
from seaformer_deploy.errors import UsageError
from seaformer_deploy.export.graph import load_tflite_graph
from seaformer_deploy.export.metadata import embed_tflite_metadata, read_model_facts
from seaformer_deploy.export.report import ExportReport
from seaformer_deploy.model_facts import EXPORT_SCHEMA, ModelFacts, WeightSource
from seaformer_deploy.schema import SchemaError, check_schema
from seaformer_deploy.tflite_file import TfliteFileError, read_tflite


@pytest.fixture
def truncated_export(exported_t64, tmp_path):
    """The first 100 kB of a real export, as an interrupted copy leaves it."""
    cut = tmp_path / exported_t64.model_path.name
    cut.write_bytes(exported_t64.model_path.read_bytes()[:100_000])
    return cut


def test_facts_round_trip_through_the_model_file_and_the_report(exported_t64) -> None:
    facts = read_model_facts(exported_t64.model_path)
    assert facts is not None and facts.variant == "T" and facts.input_size_hw == (64, 64)
    assert facts.weights is WeightSource.RANDOM and facts.input.shape == (1, 64, 64, 3)
    assert ModelFacts.from_dict(facts.to_dict()) == facts
    report = json.loads(exported_t64.report_path.read_text())
    # The report opens with the same facts; its "weights" is the full provenance object.
    assert ModelFacts.from_dict(report) == facts
    assert report["weights"]["source"] == facts.to_dict()["weights"] == "random"


def test_facts_embed_replaces_the_previous_entry(exported_t64, tmp_path) -> None:
    facts = read_model_facts(exported_t64.model_path)
    changed = ModelFacts.from_dict({**facts.to_dict(), "weights": "demo", "quantization": "fp16"})
    path = tmp_path / "re-embedded.tflite"
    path.write_bytes(embed_tflite_metadata(exported_t64.model_path.read_bytes(), changed))
    assert read_model_facts(path) == changed
    entries = [m for m in read_tflite(path).model.metadata if m.name == b"seaformer_deploy"]
    assert len(entries) == 1


@pytest.mark.parametrize("data, message", [
    ([1, 2], "JSON array"),
    ("text", "JSON string"),
    ({"variant": "T"}, "no 'schema' field"),
    ({"schema": "seaformer-deploy/export-report@2"}, "export-report@2"),
    ({"schema": "seaformer-deploy/bench-report@1"}, "bench-report@1"),
])
def test_schema_check_names_both_versions_or_the_problem(data, message) -> None:
    with pytest.raises(SchemaError, match=message) as error:
        check_schema(data, EXPORT_SCHEMA, "report.json")
    assert "report.json" in str(error.value) and "\n" not in str(error.value)
    assert error.value.exit_code == 2
    if isinstance(data, dict) and "schema" in data:
        assert EXPORT_SCHEMA in str(error.value)


def test_schema_check_accepts_its_own_version() -> None:
    assert check_schema({"schema": EXPORT_SCHEMA, "x": 1}, EXPORT_SCHEMA, "r")["x"] == 1


@pytest.mark.parametrize(("reader", "what", "schema"), [(ExportReport, "export report", EXPORT_SCHEMA),
                                                     (BenchReport, "bench report", BENCH_SCHEMA)])
@pytest.mark.parametrize(("content", "message"), [
    (None, "does not exist"),
    ("", "is empty"),
    ("{not json", "is not readable JSON"),
    (b"\xff\xfe", "is not readable JSON"),
    ('{"schema": "seaformer-deploy/other@1"}', "has schema 'seaformer-deploy/other@1'"),
])
def test_report_readers_refuse_bad_files_in_one_line(tmp_path, reader, what, schema, content, message) -> None:
    path = tmp_path / "report.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(SchemaError, match=message) as error:
        reader.read(path)
    text = str(error.value)
    assert str(path) in text and "\n" not in text and error.value.exit_code == 2
    if "has schema" in message:
        assert text.endswith(f"reads {schema!r}")
    else:
        assert text.startswith(f"{what} {path} {message}")


def test_malformed_facts_are_one_usage_error() -> None:
    with pytest.raises(UsageError, match="malformed model facts"):
        ModelFacts.from_dict({"schema": EXPORT_SCHEMA, "variant": "T"})
    with pytest.raises(UsageError, match="malformed model facts"):
        ModelFacts.from_dict({"schema": EXPORT_SCHEMA, "variant": "T", "weights": "borrowed"})


@pytest.mark.parametrize("reader", [read_tflite, read_model_facts, load_tflite_graph])
def test_truncated_real_export_is_one_clear_line_and_exit_2(truncated_export, reader) -> None:
    with pytest.raises(TfliteFileError) as error:
        reader(truncated_export)
    message = str(error.value)
    assert message.startswith(f"{truncated_export}: truncated or corrupt TFLite model")
    assert "\n" not in message and "unpack_from" not in message
    assert isinstance(error.value, UsageError) and error.value.exit_code == 2


def test_not_tflite_and_missing_files(tmp_path) -> None:
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"hello, not a model\n")
    with pytest.raises(TfliteFileError, match="not a TFLite model"):
        read_tflite(junk)
    with pytest.raises(TfliteFileError, match="not found"):
        read_tflite(tmp_path / "absent.tflite")
