"""``make demo``: the main job on embedded defaults, with no phone and no download.

SeaFormer-T with the demo checkpoint the package ships, exported to ONNX fp32, TFLite fp32, TFLite int8 and
TFLite with the label map in the graph, each benchmarked on this host against the demo validation split, one
side-by-side table and the HTML report with plots (``seaformer_deploy.demo_pipeline``).
"""

from __future__ import annotations

from pathlib import Path

import click

from seaformer_deploy.cli.common import CONTEXT_SETTINGS, debug_option, handle_errors


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--variant", default="T", show_default=True, help="SeaFormer variant (T, S, B, L).")
@click.option("--input-size", default="256", show_default=True,
              help="The demo scenes are 256x256: the demo checkpoint reaches its mIoU at their own size.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build/demo"),
              show_default=True, help="Where the models and reports are written.")
@debug_option
@handle_errors
def main(variant: str, input_size: str, output_dir: Path, debug: bool) -> None:
    """Export SeaFormer to every runtime and benchmark them side by side on this host with the demo dataset."""
    from rich.console import Console

    from seaformer_deploy.bench.side_by_side import side_by_side_table
    from seaformer_deploy.demo_pipeline import run_demo

    console = Console(stderr=True, log_path=False)
    started_steps: set[str] = set()
    with console.status("starting") as status:
        def progress(message: str) -> None:
            # Messages start with "[k/N]": the first message of each step stays on screen, the rest animate.
            step = message.partition("]")[0]
            if step not in started_steps:
                started_steps.add(step)
                console.log(message)
            status.update(f"[bold]{message}")

        result = run_demo(output_dir, variant=variant, input_size=input_size, progress=progress)
    console.print(side_by_side_table(result.rows, title=result.title))
    console.print("vs PyTorch: share of pixels given PyTorch's class. labels (fast): the label map computed inside the "
                  "graph, argmax at 1/8 then nearest upsampling (--labels-method trades latency for mIoU). "
                  "top module: largest share of end-to-end latency. "
                  "*: launches varied by 10% or more (a shared or busy machine).")
    console.print("[bold yellow]weights:[/] the demo checkpoint knows only the synthetic demo scenes: its mIoU "
                  "means something there, not on real images")
    click.echo(f"reports: {output_dir}  ({len(result.rows) - 1} models, their export and bench reports)")
    click.echo(f"html report: {result.html_path}")
    click.echo(f"demo took {result.seconds:.0f} s")


if __name__ == "__main__":
    main()
