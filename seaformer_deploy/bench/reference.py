"""``--reference``: the PyTorch model an exported file was made from, rebuilt and proven to be the same weights."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from seaformer_deploy.bench.model_info import ModelInfo
from seaformer_deploy.errors import UsageError
from seaformer_deploy.model_facts import WeightSource


def reference_predictor(info: ModelInfo, checkpoint: str | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """PyTorch's output for the same input: the model the export was made from, same layout and output mode.

    Without a checkpoint the export used the seeded random weights, which ``build_model`` rebuilds exactly; the
    weight fingerprint embedded at export proves the rebuilt model is the exported one.
    """
    import torch

    from seaformer_deploy import build_model
    from seaformer_deploy.export.report import ExportReport
    from seaformer_deploy.models.deploy import DeployModel

    facts = info.facts
    exported = None if info.export_report is None else ExportReport.from_dict(info.export_report).options
    checkpoint = checkpoint or (exported.checkpoint if exported else None)
    if facts.weights is not WeightSource.RANDOM and checkpoint is None:
        raise UsageError("--reference needs the checkpoint the model was exported from: pass --checkpoint")
    model = build_model(facts.variant, facts.task, facts.num_classes, checkpoint,
                        allow_partial=bool(exported and exported.allow_partial),
                        trust_checkpoint=bool(exported and exported.trust_checkpoint))
    expected = facts.weights_state_sha256
    if expected and model.weights.state_sha256 != expected:
        raise UsageError(f"the PyTorch model rebuilt for --reference has other weights than {info.path.name} "
                         "was exported with: pass the checkpoint it was exported from with --checkpoint")
    wrapped = DeployModel(model, facts.input_size_hw, output_mode=facts.output_mode, layout=facts.layout).eval()

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return wrapped(torch.from_numpy(batch)).numpy()

    return predict
