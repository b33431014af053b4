"""Float32 conversion of a deploy-ready SeaFormer: torch.onnx (+ onnxsim, checker, shape inference) and
litert-torch (the successor of ai-edge-torch) for TFLite.

Converters print progress and C++ logs on the process's stdout/stderr; ``captured_output`` moves them into
a string for the export report, so ``--json`` output stays machine-readable.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from seaformer_deploy.errors import CheckFailedError, first_line
from seaformer_deploy.export.resize_decomposition import int32_bilinear_resize

ONNX_OPSET = 17
ONNX_INPUT_NAME = "image"
ONNX_OUTPUT_NAME = "output"


class CapturedOutput:
    """Text written to fds 1 and 2 while a ``captured_output`` block ran."""

    text: str = ""


@contextlib.contextmanager
def captured_output() -> Iterator[CapturedOutput]:
    """Redirect the process's stdout and stderr (file descriptors, so C++ logs too) into a buffer."""
    result = CapturedOutput()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield result
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            result.text = sink.read().decode(errors="replace")


def _run_converter(what: str, action: Callable[[], object]) -> str:
    """Run ``action`` with its output captured; a failure becomes one CheckFailedError line."""
    failure: BaseException | None = None
    with captured_output() as log, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - converter failures come in many types
            failure = exc
    if failure is not None:
        raise CheckFailedError(f"{what} failed: {first_line(failure)}")
    return log.text


def convert_to_tflite(model: torch.nn.Module, example: torch.Tensor, output: Path) -> str:
    """Convert with litert-torch and write ``output``; return the converter's log."""
    import litert_torch

    def run() -> None:
        with int32_bilinear_resize():
            litert_torch.convert(model.eval(), (example,)).export(str(output))

    return _run_converter("litert-torch conversion", run)


def convert_to_onnx(model: torch.nn.Module, example: torch.Tensor, output: Path) -> str:
    """Export with torch.onnx (TorchScript exporter, which keeps module paths in node names), simplify with
    onnxsim, then run the ONNX checker and shape inference; return the tools' log."""
    import onnx
    import onnxsim

    def run() -> None:
        torch.onnx.export(
            model.eval(), (example,), str(output), dynamo=False, opset_version=ONNX_OPSET,
            input_names=[ONNX_INPUT_NAME], output_names=[ONNX_OUTPUT_NAME], do_constant_folding=True,
        )
        simplified, ok = onnxsim.simplify(onnx.load(str(output)))
        if not ok:
            raise RuntimeError("onnxsim could not validate the simplified model")
        onnx.checker.check_model(simplified, full_check=True)
        onnx.save(onnx.shape_inference.infer_shapes(simplified, strict_mode=True), str(output))

    return _run_converter("ONNX export", run)
