"""Slides read by physical resolution (mpp), whatever the scanner's pyramid."""

from hookseg.slides.base import Bounds, SlideLevel, SlideReader
from hookseg.slides.registry import READERS, open_slide
from hookseg.slides.tissue import TissueMask, TissueParams, tissue_mask
from hookseg.slides.writer import write_pyramid

__all__ = [
    "READERS",
    "Bounds",
    "SlideLevel",
    "SlideReader",
    "TissueMask",
    "TissueParams",
    "open_slide",
    "tissue_mask",
    "write_pyramid",
]
