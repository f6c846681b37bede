"""Training-set augmentation (flip, rotation, random resized crop) on image tensors."""

from __future__ import annotations

from numbers import Number
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

if TYPE_CHECKING:  # torchvision is imported only when augmentation is switched on
    from torchvision.transforms import v2

Size = tuple[int, int]


def _hflip(value: Any, size: Size) -> v2.Transform:
    from torchvision.transforms import v2

    p = 0.5 if value is True else float(value)
    if not 0 < p <= 1:
        raise ValueError(f"augment['hflip'] must be True or a probability in (0, 1], got {value!r}")
    return v2.RandomHorizontalFlip(p=p)


def _rotation(value: Any, size: Size) -> v2.Transform:
    from torchvision.transforms import v2

    degrees = 15.0 if value is True else value
    if isinstance(degrees, Number):
        degrees = float(degrees)
        if degrees <= 0:
            raise ValueError(f"augment['rotation'] must be a positive number of degrees, got {value!r}")
    elif not (isinstance(degrees, Sequence) and len(degrees) == 2):
        raise ValueError(f"augment['rotation'] must be degrees (15) or a range (-10, 30), got {value!r}")
    # Bilinear keeps thin strokes of 8x8 digits visible; fill 0 is the black background.
    return v2.RandomRotation(degrees, interpolation=v2.InterpolationMode.BILINEAR, fill=0.0)


def _crop(value: Any, size: Size) -> v2.Transform:
    from torchvision.transforms import v2

    scale = 0.8 if value is True else value
    scale = (float(scale), 1.0) if isinstance(scale, Number) else tuple(float(s) for s in scale)
    if len(scale) != 2 or not 0 < scale[0] <= scale[1] <= 1:
        raise ValueError(
            f"augment['crop'] must be the smallest kept area fraction (0.8) or a range (0.6, 1.0), got {value!r}"
        )
    return v2.RandomResizedCrop(list(size), scale=scale, antialias=True)


#: Augmentation name -> factory ``(value, (H, W)) -> transform``; applied in this order.
AUGMENTATIONS: dict[str, Callable[[Any, Size], "v2.Transform"]] = {
    "crop": _crop,
    "rotation": _rotation,
    "hflip": _hflip,
}


def parse_augment(augment: Mapping[str, Any] | Sequence[str] | str | None) -> dict[str, Any]:
    """Turn ``"hflip"``, ``["hflip", "crop"]`` or ``{"rotation": 15}`` into an option dict.

    Options set to ``False``/``None``/``0`` are dropped; unknown names raise ``ValueError``.
    """
    if augment is None:
        return {}
    if isinstance(augment, str):
        augment = [augment]
    if not isinstance(augment, Mapping):
        augment = {name: True for name in augment}
    unknown = sorted(set(augment) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"augment: unknown option(s) {unknown}; valid options are {list(AUGMENTATIONS)}")
    switched_on = {name: value for name, value in augment.items() if value not in (False, None, 0)}
    return {name: switched_on[name] for name in AUGMENTATIONS if name in switched_on}


def build_augmentation(augment, image_size: Size) -> v2.Compose | None:
    """Compose the random transforms described by ``augment`` for ``(H, W)`` images.

    Randomness comes from torch's global generator (seed it with ``torch.manual_seed``).

    Args:
        augment: See :func:`parse_augment`. ``True`` picks a default for an option:
            ``hflip`` p=0.5, ``rotation`` ±15°, ``crop`` scale (0.8, 1.0).
        image_size: Height and width of the images (the crop resizes back to it).

    Returns:
        A ``torchvision.transforms.v2.Compose`` acting on one ``(C, H, W)`` tensor, or
        ``None`` when nothing is switched on.

    Example:
        >>> t = build_augmentation({"hflip": True, "rotation": 15, "crop": 0.8}, (28, 28))
        >>> [type(s).__name__ for s in t.transforms]
        ['RandomResizedCrop', 'RandomRotation', 'RandomHorizontalFlip']
    """
    from torchvision.transforms import v2

    options = parse_augment(augment)
    if not options:
        return None
    return v2.Compose([AUGMENTATIONS[name](value, image_size) for name, value in options.items()])
