"""``make demo``: the main job on embedded defaults, with no phone and no download."""

from __future__ import annotations

import time
from pathlib import Path

import click

from seaformer_deploy.cli.common import CONTEXT_SETTINGS, debug_option, handle_errors


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--variant", default="T", show_default=True, help="SeaFormer variant (T, S, B, L).")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build/demo"),
              show_default=True, help="Where results are written.")
@debug_option
@handle_errors
def main(variant: str, output_dir: Path, debug: bool) -> None:
    """Build SeaFormer, run it on a built-in image and print what it predicts."""
    import numpy as np
    import torch

    from seaformer_deploy import build_model, prepare_for_deploy
    from seaformer_deploy.data.demo import demo_image
    from seaformer_deploy.data.preprocess import logits_to_labels, preprocess
    from seaformer_deploy.fileio import ensure_writable_dir, write_json_atomic

    output_dir = ensure_writable_dir(output_dir)
    model = build_model(variant)
    deployed = prepare_for_deploy(model, 512)
    image = demo_image((512, 512))
    inputs = torch.from_numpy(preprocess(image, (512, 512)))
    with torch.no_grad():
        deployed(inputs)
        start = time.perf_counter()
        logits = deployed(inputs).numpy()
        elapsed_ms = (time.perf_counter() - start) * 1e3
    labels = logits_to_labels(logits, image.shape[:2], input_size_hw=(512, 512))
    classes, counts = np.unique(labels, return_counts=True)
    top = sorted(zip(classes.tolist(), (counts / labels.size).tolist(), strict=True), key=lambda c: -c[1])[:5]
    click.echo(f"SeaFormer-{model.variant} seg, 512x512, PyTorch eager on this host: {elapsed_ms:.1f} ms")
    click.echo(f"weights: {model.weights.source}" + "".join(f"\n  WARNING: {w}" for w in model.weights.warnings))
    click.echo("top predicted classes (ADE20K id: share of pixels): "
               + ", ".join(f"{cls}: {share:.1%}" for cls, share in top))
    write_json_atomic(output_dir / "demo.json", {
        "variant": model.variant, "input_size": [512, 512], "pytorch_ms": elapsed_ms,
        "weights": model.weights.to_dict(), "top_classes": [{"class": c, "share": s} for c, s in top],
    })
    click.echo(f"wrote {output_dir / 'demo.json'}")


if __name__ == "__main__":
    main()
