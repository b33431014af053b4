"""``make demo``: the main job on embedded defaults, with no phone and no download.

Exports SeaFormer-T (random weights, said loudly) to a parity-checked, linted TFLite model, then benchmarks it
on this host: latency over independent launches, the per-module profile, and accuracy on the built-in
synthetic ADE20K-layout dataset together with agreement against PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import click

from seaformer_deploy.cli.common import CONTEXT_SETTINGS, debug_option, handle_errors


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--variant", default="T", show_default=True, help="SeaFormer variant (T, S, B, L).")
@click.option("--input-size", default="512", show_default=True)
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build/demo"),
              show_default=True, help="Where the model and reports are written.")
@debug_option
@handle_errors
def main(variant: str, input_size: str, output_dir: Path, debug: bool) -> None:
    """Export SeaFormer to TFLite and benchmark it on this host with the built-in demo dataset."""
    from rich.console import Console

    from seaformer_deploy.bench.console import print_bench_summary
    from seaformer_deploy.bench.runner import BenchOptions, benchmark
    from seaformer_deploy.export.pipeline import ExportOptions, export, raise_for_result
    from seaformer_deploy.export.summary import print_export_summary

    console = Console(stderr=True)
    with console.status("exporting") as status:
        result = export(ExportOptions(variant=variant, format="tflite", input_size=input_size), output_dir,
                        progress=lambda step: status.update(f"[bold]export: {step}"))
    print_export_summary(result, console)
    raise_for_result(result)
    options = BenchOptions(device="local", warmup=3, runs=20, repeats=3, dataset="demo", reference=True)
    with console.status("benchmarking") as status:
        bench = benchmark(result.model_path, options, output_dir,
                          progress=lambda what, done, total: status.update(f"[bold]bench: {what} {done}/{total}"))
    print_bench_summary(bench.report, console)
    click.echo(f"model: {result.model_path}\nexport report: {result.report_path}\nbench report: {bench.report_path}")


if __name__ == "__main__":
    main()
