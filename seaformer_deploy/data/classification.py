"""Classification datasets yielding ``(name, PIL RGB image, class index)``: ImageFolder and the built-in demo set.

The ImageFolder reader follows the official seaformer-cls evaluation (timm's ``ParserImageFolder``): one folder per
class directly under the root, images with the extensions timm reads (``.png .jpg .jpeg``, any case), class indices
from the folder names sorted in timm's natural order (digit runs compare as numbers, case ignored; for ImageNet's
WordNet-id folders such as ``n01440764`` that is plain sorted order), samples in natural order of their paths. Where
timm would quietly do something that shifts class indices (images outside class folders, a class folder without
images) this reader refuses with one clear error instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from seaformer_deploy.data.preprocess import load_image_pil
from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import cache_dir

# timm's IMG_EXTENSIONS for folder datasets.
CLASSIFICATION_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def natural_key(text: str) -> list[int | str]:
    """timm's natural sort key: lower-cased, digit runs compared as integers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text.lower())]


@dataclass(frozen=True)
class ClassificationSample:
    """One item: ``image`` is a PIL RGB image, ``target`` the class index."""

    name: str
    image: Image.Image
    target: int


@dataclass(frozen=True)
class _Item:
    name: str
    path: Path
    target: int


class ClassificationDataset:
    """A sorted list of image files with their class indices, read lazily; ``limit`` keeps the first items."""

    def __init__(self, name: str, items: list[_Item], *, class_names: tuple[str, ...], spec: str,
                 limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise UsageError(f"dataset limit must be at least 1, got {limit}")
        if not items:
            raise UsageError(f"dataset {spec} has no images")
        self.name = name
        self.spec = spec
        self.class_names = class_names
        self.limit = limit
        self._items = items[:limit]

    @property
    def num_classes(self) -> int:
        """How many classes the class indices refer to."""
        return len(self.class_names)

    @property
    def names(self) -> tuple[str, ...]:
        """Sample names in iteration order."""
        return tuple(item.name for item in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[ClassificationSample]:
        for item in self._items:
            yield ClassificationSample(item.name, load_image_pil(item.path), item.target)

    def check_num_classes(self, model_classes: int) -> None:
        """A UsageError unless the model scores exactly this dataset's classes."""
        if model_classes != self.num_classes:
            hint = f" (export the model with --num-classes {self.num_classes})" if self.name == "demo-cls" else ""
            raise UsageError(
                f"dataset {self.spec} has {self.num_classes} classes but the model outputs {model_classes}: "
                f"class indices would not line up{hint}"
            )

    def describe(self) -> dict[str, object]:
        """JSON-ready summary for reports."""
        return {"name": self.name, "spec": self.spec, "num_samples": len(self), "num_classes": self.num_classes,
                "limit": self.limit}


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in CLASSIFICATION_IMAGE_SUFFIXES


def open_imagefolder(root: str | os.PathLike[str], *, limit: int | None = None, name: str = "imagenet",
                     spec: str = "") -> ClassificationDataset:
    """``ROOT/<class>/<image>`` as the official evaluation reads it (see the module docstring)."""
    root = Path(root)
    spec = spec or f"imagenet:{root}"
    if not root.is_dir():
        raise UsageError(f"ImageFolder directory not found: {root}")
    loose = sorted(p.name for p in root.iterdir() if _is_image(p))
    if loose:
        raise UsageError(
            f"{root} is not in ImageFolder layout: it holds images directly (e.g. {loose[0]}); put each class's "
            "images in a folder of their own, ROOT/<class>/<image>"
        )
    class_dirs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: natural_key(p.name))
    if not class_dirs:
        raise UsageError(f"{root} has no class folders and no images (expected ROOT/<class>/<image>)")
    items: list[_Item] = []
    for target, class_dir in enumerate(class_dirs):
        images = [p for p in class_dir.iterdir() if _is_image(p)]
        if not images:
            nested = next((p for p in class_dir.rglob("*") if _is_image(p)), None)
            where = f"its images are nested deeper (e.g. {nested.relative_to(root)})" if nested else "it is empty"
            raise UsageError(
                f"{root} is not in ImageFolder layout: class folder {class_dir.name!r} has no images "
                f"({where}); every class needs its images directly in its folder"
            )
        items.extend(_Item(f"{class_dir.name}/{p.name}", p, target) for p in images)
    items.sort(key=lambda item: natural_key(str(item.path)))
    return ClassificationDataset(name, items, class_names=tuple(p.name for p in class_dirs), spec=spec, limit=limit)


DEMO_CLS_CLASSES = 10
DEMO_CLS_IMAGES_PER_CLASS = 4


def open_demo_cls(root: str | os.PathLike[str] | None = None, *, limit: int | None = None) -> ClassificationDataset:
    """The built-in procedural classification set in ImageFolder layout, generated on first use."""
    from seaformer_deploy.data.demo_cls import make_demo_cls_dataset

    root = Path(root) if root is not None else cache_dir("demo-cls")
    make_demo_cls_dataset(root, images_per_class=DEMO_CLS_IMAGES_PER_CLASS)
    return open_imagefolder(root, limit=limit, name="demo-cls", spec=f"demo-cls:{root}")
