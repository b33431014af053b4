"""``seaformer-export``: a checked, fused, parity-tested SeaFormer model file and its report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from seaformer_deploy.cli.common import CONTEXT_SETTINGS, debug_option, handle_errors
from seaformer_deploy.models.label_methods import DEFAULT_LABELS_METHOD, LABEL_METHODS

_CHOICE = {"case_sensitive": False}


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--variant", type=click.Choice(["T", "S", "B", "L"], **_CHOICE), help="SeaFormer variant.")
@click.option("--recipe", type=click.Path(dir_okay=False, path_type=Path),
              help="An export recipe (JSON, see export/); replaces the options below.")
@click.option("--task", default="seg", show_default=True, type=click.Choice(["seg", "cls"], **_CHOICE))
@click.option("--format", default="tflite", show_default=True, type=click.Choice(["tflite", "onnx"], **_CHOICE))
@click.option("--quant", default="fp32", show_default=True,
              type=click.Choice(["fp32", "fp16", "int8", "dynamic"], **_CHOICE))
@click.option("--input-size", default="", help="N or HxW (multiples of 64 for seg). [default: 512 seg, 224 cls]")
@click.option("--checkpoint", type=click.Path(dir_okay=False),
              help="Official mmseg/timm checkpoint, plain state dict or .safetensors; 'demo' for weights trained "
                   "on the synthetic demo scenes (seg; trained on first use). Without it: random weights.")
@click.option("--num-classes", type=click.IntRange(min=1), help="Classifier size [default: from checkpoint].")
@click.option("--output-mode", default="logits", show_default=True,
              type=click.Choice(["logits", "upsampled", "labels"], **_CHOICE),
              help="logits at 1/8, upsampled logits at the input size, or labels (class map).")
@click.option("--labels-method", type=click.Choice(LABEL_METHODS, **_CHOICE),
              help=f"Where a labels model takes the argmax: exact (bilinear to the input size, as mmseg), half, "
                   f"quarter, fast (at 1/8, labels repeated). [default: {DEFAULT_LABELS_METHOD}]")
@click.option("--layout", type=click.Choice(["nhwc", "nchw"], **_CHOICE),
              help="Input/output layout [default: nhwc for tflite, nchw for onnx].")
@click.option("--calib-data", help="Folder of images for int8 calibration, or 'demo' for the built-in synthetic set.")
@click.option("--calib-count", default=32, show_default=True, type=click.IntRange(min=1))
@click.option("--parity-data", help="Folder of images for the parity check [default: --calib-data, else demo].")
@click.option("--float-io/--no-float-io", default=True, show_default=True,
              help="Float32 input/output around an int8 body (int8 TFLite).")
@click.option("--float-stem/--no-float-stem", default=False, show_default=True,
              help="int8 TFLite with float I/O: keep the image stem's 3-channel convolution float (faster on "
                   "some CPUs, slower on others: time both on the target).")
@click.option("--row-strips/--no-row-strips", default=True, show_default=True,
              help="Compute the high-resolution stem stage in row strips sized for a phone core's cache where its "
                   "tensors outgrow it; --no-row-strips for a target whose cache holds them whole.")
@click.option("--allow-partial", is_flag=True, help="Load only the matching checkpoint keys.")
@click.option("--trust-checkpoint", is_flag=True, help="Allow pickled Python objects in the checkpoint.")
@click.option("--output-dir", default=Path("build/export"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Lint failures fail the export (exit 1).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@debug_option
@handle_errors
def main(recipe: Path | None, output_dir: Path, as_json: bool, debug: bool, **fields: Any) -> None:
    """Export SeaFormer to ONNX or TFLite, check parity against PyTorch and lint the graph.

    Example: seaformer-export --variant B --format tflite
    """
    from rich.console import Console

    from seaformer_deploy.export.pipeline import ExportOptions, export, raise_for_result
    from seaformer_deploy.export.summary import print_export_summary

    # Every other option is an ExportOptions field of the same name (a test keeps the two in step).
    if recipe is not None:
        options = ExportOptions.from_recipe(recipe)
    elif fields["variant"] is None:
        raise click.UsageError("pass --variant (or --recipe)")
    else:
        options = ExportOptions(**{**fields, "layout": fields["layout"] or "",
                                       "labels_method": fields["labels_method"] or ""})
    console = Console(stderr=True)
    with console.status("exporting") as status:
        result = export(options, output_dir, progress=lambda step: status.update(f"[bold]{step}"))
    print_export_summary(result, console)
    if as_json:
        click.echo(json.dumps(result.summary(), indent=2))
    raise_for_result(result)


if __name__ == "__main__":
    main()
