"""Segmentation dataset readers yielding ``(name, RGB uint8 image, uint8 label with ignore=255)``.

Layouts follow mmseg's ADE20KDataset and CityscapesDataset; labels are transformed exactly as mmseg's
LoadAnnotations does, so metrics computed on them match the official evaluation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seaformer_deploy.data.classification import ClassificationDataset, open_demo_cls, open_imagefolder
from seaformer_deploy.data.demo import DEMO_FORMAT_VERSION, make_demo_dataset
from seaformer_deploy.data.preprocess import load_image, load_label
from seaformer_deploy.errors import UsageError
from seaformer_deploy.fileio import cache_dir
from seaformer_deploy.metrics import generic_class_names

IGNORE_INDEX = 255
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
LABEL_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")

ADE20K_CLASSES: tuple[str, ...] = (
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass",
    "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair",
    "car", "water", "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field", "armchair",
    "seat", "fence", "desk", "rock", "wardrobe", "lamp", "bathtub", "railing", "cushion", "base", "box",
    "column", "signboard", "chest of drawers", "counter", "sand", "sink", "skyscraper", "fireplace",
    "refrigerator", "grandstand", "path", "stairs", "runway", "case", "pool table", "pillow",
    "screen door", "stairway", "river", "bridge", "bookcase", "blind", "coffee table", "toilet",
    "flower", "book", "hill", "bench", "countertop", "stove", "palm", "kitchen island", "computer",
    "swivel chair", "boat", "bar", "arcade machine", "hovel", "bus", "towel", "light", "truck", "tower",
    "chandelier", "awning", "streetlight", "booth", "television receiver", "airplane", "dirt track",
    "apparel", "pole", "land", "bannister", "escalator", "ottoman", "bottle", "buffet", "poster",
    "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything",
    "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag", "minibike", "cradle",
    "oven", "ball", "food", "step", "tank", "trade name", "microwave", "pot", "animal", "bicycle",
    "lake", "dishwasher", "screen", "blanket", "sculpture", "hood", "sconce", "vase", "traffic light",
    "tray", "ashcan", "fan", "pier", "crt screen", "plate", "monitor", "bulletin board", "shower",
    "radiator", "glass", "clock", "flag",
)

CITYSCAPES_CLASSES: tuple[str, ...] = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle",
    "bicycle",
)

_Item = tuple[str, Path, Path | None]

_CITYSCAPES_IMAGE_SUFFIX = "_leftImg8bit.png"
_CITYSCAPES_LABEL_SUFFIX = "_gtFine_labelTrainIds.png"


@dataclass
class Sample:
    """One dataset item: ``image`` is RGB uint8 HxWx3, ``label`` uint8 HxW (255 = ignore) or None."""

    name: str
    image: np.ndarray
    label: np.ndarray | None


def reduce_zero_label(label: np.ndarray) -> np.ndarray:
    """ADE20K label convention: 0 (unlabelled) -> 255, class k+1 -> k, in uint8 exactly as mmseg."""
    reduced = np.array(label, dtype=np.uint8, copy=True)
    reduced[reduced == 0] = 255
    reduced = reduced - np.uint8(1)
    reduced[reduced == 254] = 255
    return reduced


class SegDataset:
    """A sorted list of image files, each with its label file (or none), read lazily.

    ``limit`` keeps only the first ``limit`` items of the sorted order.
    """

    ignore_index: int = IGNORE_INDEX

    def __init__(
        self,
        name: str,
        items: list[_Item],
        *,
        num_classes: int | None,
        class_names: tuple[str, ...] = (),
        reduce_zero_label: bool = False,
        limit: int | None = None,
        spec: str = "",
    ) -> None:
        if limit is not None and limit < 1:
            raise UsageError(f"dataset limit must be at least 1, got {limit}")
        if not items:
            raise UsageError(f"dataset {spec or name} has no images")
        if num_classes is not None and class_names and len(class_names) != num_classes:
            raise UsageError(f"dataset {name}: {len(class_names)} class names for {num_classes} classes")
        self.name = name
        self.spec = spec or name
        self.num_classes = num_classes
        self.class_names = class_names or (generic_class_names(num_classes) if num_classes else ())
        self.reduce_zero_label = reduce_zero_label
        self.limit = limit
        self._items = sorted(items, key=lambda item: item[0])[:limit]

    @property
    def has_labels(self) -> bool:
        """True when every item has a label file."""
        return all(label is not None for _, _, label in self._items)

    @property
    def names(self) -> tuple[str, ...]:
        """Sample names in iteration order."""
        return tuple(name for name, _, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Sample]:
        for name, image_path, label_path in self._items:
            image = load_image(image_path)
            label = None
            if label_path is not None:
                label = load_label(label_path)
                if label.shape != image.shape[:2]:
                    raise UsageError(
                        f"label {label_path} is {label.shape[1]}x{label.shape[0]} but image {image_path} "
                        f"is {image.shape[1]}x{image.shape[0]}"
                    )
                if self.reduce_zero_label:
                    label = reduce_zero_label(label)
            yield Sample(name, image, label)

    def describe(self) -> dict[str, object]:
        """JSON-ready summary for reports."""
        return {
            "name": self.name,
            "spec": self.spec,
            "num_samples": len(self),
            "num_classes": self.num_classes,
            "ignore_index": self.ignore_index,
            "reduce_zero_label": self.reduce_zero_label,
            "has_labels": self.has_labels,
            "limit": self.limit,
        }


def _require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise UsageError(f"{what} directory not found: {path}")
    return path


def _files_by_stem(directory: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix.lower() in suffixes:
            if path.stem in found:
                raise UsageError(f"two files share the name {path.stem!r} in {directory}")
            found[path.stem] = path
    return found


def _pair_by_stem(image_dir: Path, label_dir: Path, label_suffixes: tuple[str, ...]) -> list[_Item]:
    images = _files_by_stem(image_dir, IMAGE_SUFFIXES)
    labels = _files_by_stem(label_dir, label_suffixes)
    missing = [stem for stem in images if stem not in labels]
    if missing:
        raise UsageError(
            f"{len(missing)} image(s) in {image_dir} have no label in {label_dir}, "
            f"e.g. {images[missing[0]].name}"
        )
    return [(stem, path, labels[stem]) for stem, path in images.items()]


def open_ade20k(root: str | os.PathLike[str], *, limit: int | None = None, name: str = "ade20k",
                spec: str = "") -> SegDataset:
    """ADE20K validation split: ``ROOT/images/validation/*.jpg`` + ``ROOT/annotations/validation/*.png``."""
    root = Path(root)
    image_dir = _require_dir(root / "images" / "validation", "ADE20K image")
    label_dir = _require_dir(root / "annotations" / "validation", "ADE20K annotation")
    items = _pair_by_stem(image_dir, label_dir, (".png",))
    return SegDataset(name, items, num_classes=len(ADE20K_CLASSES), class_names=ADE20K_CLASSES,
                      reduce_zero_label=True, limit=limit, spec=spec or f"ade20k:{root}")


def open_cityscapes(root: str | os.PathLike[str], *, limit: int | None = None) -> SegDataset:
    """Cityscapes val: ``leftImg8bit/val/<city>/*_leftImg8bit.png`` + ``gtFine/..._labelTrainIds.png``."""
    root = Path(root)
    image_root = _require_dir(root / "leftImg8bit" / "val", "Cityscapes image")
    label_root = _require_dir(root / "gtFine" / "val", "Cityscapes label")
    items: list[_Item] = []
    for image_path in sorted(image_root.glob(f"*/*{_CITYSCAPES_IMAGE_SUFFIX}")):
        stem = image_path.name[: -len(_CITYSCAPES_IMAGE_SUFFIX)]
        label_path = label_root / image_path.parent.name / f"{stem}{_CITYSCAPES_LABEL_SUFFIX}"
        if not label_path.is_file():
            raise UsageError(
                f"no label {label_path} for {image_path.name} "
                "(labelTrainIds files are made by cityscapesscripts' createTrainIdLabelImgs)"
            )
        items.append((stem, image_path, label_path))
    return SegDataset("cityscapes", items, num_classes=len(CITYSCAPES_CLASSES),
                      class_names=CITYSCAPES_CLASSES, limit=limit, spec=f"cityscapes:{root}")


def open_folder(
    images_dir: str | os.PathLike[str],
    labels_dir: str | os.PathLike[str],
    *,
    num_classes: int,
    reduce_zero_label: bool = False,
    limit: int | None = None,
) -> SegDataset:
    """Images and labels in two directories, paired by file stem."""
    if num_classes < 1:
        raise UsageError(f"num_classes must be at least 1, got {num_classes}")
    image_dir = _require_dir(Path(images_dir), "image")
    label_dir = _require_dir(Path(labels_dir), "label")
    items = _pair_by_stem(image_dir, label_dir, LABEL_SUFFIXES)
    return SegDataset("folder", items, num_classes=num_classes, reduce_zero_label=reduce_zero_label,
                      limit=limit, spec=f"folder:{image_dir},{label_dir}")


def open_images(images_dir: str | os.PathLike[str], *, num_classes: int | None = None,
                limit: int | None = None) -> SegDataset:
    """A directory of images without labels (latency runs, agreement with PyTorch)."""
    image_dir = _require_dir(Path(images_dir), "image")
    images = _files_by_stem(image_dir, IMAGE_SUFFIXES)
    items: list[_Item] = [(stem, path, None) for stem, path in images.items()]
    return SegDataset("images", items, num_classes=num_classes, limit=limit, spec=f"images:{image_dir}")


def default_demo_root() -> Path:
    """``$XDG_CACHE_HOME/seaformer-deploy/demo-vN``, or ``~/.cache/seaformer-deploy/demo-vN``.

    The scene generator's version is in the name, so checkouts with other generators never rewrite each other's.
    """
    return cache_dir(f"demo-v{DEMO_FORMAT_VERSION}")


DEMO_VAL_IMAGES = 16


def open_demo(root: str | os.PathLike[str] | None = None, *, limit: int | None = None) -> SegDataset:
    """The built-in demo validation split (ADE20K layout and classes), generated on first use."""
    root = Path(root) if root is not None else default_demo_root()
    make_demo_dataset(root, num_images=DEMO_VAL_IMAGES)
    return open_ade20k(root, limit=limit, name="demo", spec=f"demo:{root}")


DEMO_TRAIN_SEED = 1
DEMO_TRAIN_IMAGES = 64


def open_demo_train(*, num_images: int = DEMO_TRAIN_IMAGES, size_hw: tuple[int, int] = (256, 256),
                    seed: int = DEMO_TRAIN_SEED, limit: int | None = None) -> SegDataset:
    """Synthetic scenes for training demo weights and calibrating int8, generated on first use.

    They are drawn with another seed than ``open_demo``'s evaluation scenes, so no image is in both.
    """
    height, width = size_hw
    folder = f"demo-v{DEMO_FORMAT_VERSION}-train-{seed}-{num_images}-{height}x{width}"
    root = make_demo_dataset(cache_dir(folder), num_images=num_images, size_hw=size_hw, seed=seed)
    return open_ade20k(root, limit=limit, name="demo-train", spec=f"demo-train:{root}")


_SCHEMES = ("ade20k", "cityscapes", "folder", "images", "demo", "imagenet", "demo-cls")
CLASSIFICATION_SCHEMES = ("imagenet", "demo-cls")


def open_dataset(
    spec: str,
    *,
    limit: int | None = None,
    num_classes: int | None = None,
    reduce_zero_label: bool = False,
) -> SegDataset | ClassificationDataset:
    """Open a dataset from a spec string.

    Segmentation: ``ade20k:PATH``, ``cityscapes:PATH``, ``folder:IMAGES_DIR,LABELS_DIR`` (``num_classes``
    required, ``reduce_zero_label`` optional), ``images:DIR`` (no labels), ``demo`` or ``demo:PATH``.
    Classification: ``imagenet:DIR`` (ImageFolder layout) and ``demo-cls`` or ``demo-cls:PATH``; with
    ``num_classes`` their class count must match it.
    """
    scheme, sep, rest = spec.partition(":")
    scheme = scheme.strip().lower()
    if scheme not in _SCHEMES:
        expected = ", ".join(f"{s}:..." for s in _SCHEMES)
        raise UsageError(f"unknown dataset {spec!r}: expected one of {expected}")
    if limit is not None and limit < 1:
        raise UsageError(f"dataset limit must be at least 1, got {limit}")
    if reduce_zero_label and scheme != "folder":
        raise UsageError(f"reduce_zero_label applies only to folder: datasets, not {scheme}")
    if scheme in CLASSIFICATION_SCHEMES:
        return _open_classification(scheme, rest if sep else "", limit=limit, num_classes=num_classes)
    if scheme == "demo":
        dataset = open_demo(rest or None, limit=limit)
    elif not sep or not rest:
        raise UsageError(f"dataset {spec!r} needs a path: {scheme}:PATH")
    elif scheme == "ade20k":
        dataset = open_ade20k(rest, limit=limit)
    elif scheme == "cityscapes":
        dataset = open_cityscapes(rest, limit=limit)
    elif scheme == "images":
        return open_images(rest, num_classes=num_classes, limit=limit)
    else:
        dirs = rest.split(",")
        if len(dirs) != 2 or not all(dirs):
            raise UsageError(f"folder dataset must be folder:IMAGES_DIR,LABELS_DIR, got {spec!r}")
        if num_classes is None:
            raise UsageError("folder dataset needs num_classes (--num-classes)")
        return open_folder(dirs[0], dirs[1], num_classes=num_classes,
                           reduce_zero_label=reduce_zero_label, limit=limit)
    if num_classes is not None and num_classes != dataset.num_classes:
        raise UsageError(f"{scheme} has {dataset.num_classes} classes, got num_classes={num_classes}")
    return dataset


def _open_classification(scheme: str, path: str, *, limit: int | None,
                         num_classes: int | None) -> ClassificationDataset:
    if scheme == "demo-cls":
        dataset = open_demo_cls(path or None, limit=limit)
    elif not path:
        raise UsageError("dataset imagenet needs a path: imagenet:DIR (one folder per class)")
    else:
        dataset = open_imagefolder(path, limit=limit)
    if num_classes is not None:
        dataset.check_num_classes(num_classes)
    return dataset
