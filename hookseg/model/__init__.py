"""Models: EfficientNet encoders, the single-resolution U-Net and the dual-resolution m-UNet."""

from hookseg.model.blocks import CenterCropResize, ContextMerge, center_crop_resize
from hookseg.model.dual_unet import build_dual_unet
from hookseg.model.encoders import ENCODERS, TAP_LAYERS, build_encoder, build_split_encoder
from hookseg.model.factory import ARCHITECTURES, create_model, parameter_report
from hookseg.model.unet import build_unet

__all__ = [
    "ARCHITECTURES",
    "ENCODERS",
    "TAP_LAYERS",
    "CenterCropResize",
    "ContextMerge",
    "build_dual_unet",
    "build_encoder",
    "build_split_encoder",
    "build_unet",
    "center_crop_resize",
    "create_model",
    "parameter_report",
]
