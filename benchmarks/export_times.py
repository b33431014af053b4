"""Export time and artifact size of every variant and format (a benchmark, not a test).

Usage: python benchmarks/export_times.py [--variants TSBL] [--formats tflite,onnx] [--quant fp32]
       [--input-size 512] [--output build/perf/export_times.json]
Prints a table and writes JSON with the per-step timings of each export.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from report import benchmark_console, publish, quiet
from rich.table import Table

from seaformer_deploy.export.pipeline import ExportOptions, export


@click.command()
@click.option("--variants", default="TSBL", show_default=True)
@click.option("--formats", default="tflite,onnx", show_default=True)
@click.option("--quant", default="fp32", show_default=True)
@click.option("--input-size", default="512", show_default=True)
@click.option("--output", default=Path("build/perf/export_times.json"), type=click.Path(path_type=Path))
@quiet
def main(variants: str, formats: str, quant: str, input_size: str, output: Path) -> None:
    console = benchmark_console()
    rows = []
    table = Table(title=f"export time and size at {input_size}, {quant}")
    for column in ("variant", "format", "export s", "convert s", "parity s", "size MB", "parity", "lint"):
        table.add_column(column)
    for variant in variants:
        for fmt in formats.split(","):
            calib = {"calib_data": "demo", "calib_count": 8} if quant == "int8" else {}
            with tempfile.TemporaryDirectory() as folder:
                result = export(ExportOptions(variant=variant, format=fmt, quant=quant, input_size=input_size,
                                              **calib), folder)
            report = result.report.to_dict()
            timings = report["timings_s"]
            lint = "ok" if report["lint"]["ok"] else "FAIL"
            rows.append({"variant": variant, "format": fmt, "quant": quant, "input_size": input_size,
                         "export_seconds": report["export_seconds"], "timings_s": timings,
                         "bytes": report["artifact"]["bytes"], "parity": report["parity"]["gate"], "lint_ok": lint})
            table.add_row(variant, fmt, f"{report['export_seconds']:.1f}", f"{timings['3/8 convert to float32']:.1f}",
                          f"{timings['6/8 parity vs PyTorch']:.1f}", f"{report['artifact']['bytes'] / 1e6:.2f}",
                          f"{report['parity']['gate']['metric']} {report['parity']['gate']['value']:.2g}", lint)
            console.print(f"{variant} {fmt}: {report['export_seconds']:.1f} s")
    publish(console, table, output, "export_times", rows)


if __name__ == "__main__":
    main()
