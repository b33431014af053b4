import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from seaformer_deploy.weights.random_init import RandomWeightsWarning

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _quiet_random_weights():
    """Tests build many random-weight models on purpose; the warning itself is asserted in its own test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomWeightsWarning)
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the exported model waits for a conversion: it is slow, whoever wrote it."""
    for item in items:
        if "exported_t64" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def exported_t64(tmp_path_factory):
    """SeaFormer-T exported to fp32 TFLite at 64x64 once per session (conversion is the slow part)."""
    from seaformer_deploy.export.pipeline import ExportOptions, export

    return export(ExportOptions(variant="T", format="tflite", input_size="64"), tmp_path_factory.mktemp("t64"))
