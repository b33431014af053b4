"""int8 parity on random weights vs demo weights: what the agreement gate measures (a benchmark, not a test).

Usage: python benchmarks/int8_weights.py [--variants TB] [--input-size 512] [--output build/perf/int8_weights.json]
Exports each variant to int8 TFLite twice with the same recipe and calibration images, once on the seeded random
weights and once on the demo weights (trained and cached on first use), and prints the parity of each: agreement,
relative L2 error and the reference logits' top-2 margin in units of their spread across classes. A failed gate is
a result here, not an error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from report import benchmark_console, publish, quiet
from rich.table import Table

from seaformer_deploy.export.pipeline import ExportOptions, export

WEIGHTS = {"random": None, "demo": "demo"}


@click.command()
@click.option("--variants", default="TB", show_default=True)
@click.option("--input-size", default="512", show_default=True)
@click.option("--output", default=Path("build/perf/int8_weights.json"), type=click.Path(path_type=Path))
@quiet
def main(variants: str, input_size: str, output: Path) -> None:
    console = benchmark_console()
    rows = []
    table = Table(title=f"int8 TFLite parity at {input_size}: random vs demo weights")
    for column in ("variant", "weights", "agreement", "gate", "rel L2", "margin / spread", "margin / error rms"):
        table.add_column(column)
    for variant in variants:
        for weights, checkpoint in WEIGHTS.items():
            options = ExportOptions(variant=variant, quant="int8", input_size=input_size, checkpoint=checkpoint,
                                    calib_data="demo", calib_count=8)
            with tempfile.TemporaryDirectory() as folder:
                report = export(options, folder, progress=lambda step: console.print(f"  {step}")).report.to_dict()
            gate, images = report["parity"]["gate"], report["parity"]["image_inputs"]
            rows.append({"variant": variant, "weights": weights, "input_size": input_size, "gate": gate,
                         "passed": report["parity"]["passed"], "image_inputs": images})
            table.add_row(variant, weights, f"{gate['value']:.4f}", "pass" if report["parity"]["passed"] else "FAIL",
                          f"{images['rel_l2']:.4f}", f"{gate['top2_margin_to_spread']:.2f}",
                          f"{gate['top2_margin_to_error']:.1f}")
            console.print(f"{variant} {weights}: agreement {gate['value']:.4f}")
    publish(console, table, output, "int8_weights", rows)


if __name__ == "__main__":
    main()
