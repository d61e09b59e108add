"""The demo cohort generator: synthetic breast IHC / H&E slides with full ground truth.

``generate_cohort(out, ...)`` writes pyramidal TIFF slides at each scanner's native mpp, fine-label ground
truth rasters, partial QuPath GeoJSON annotations and a manifest (see ``docs/demo-cohort.md``).
"""

from hookseg.synth.build import generate_cohort, write_manifest
from hookseg.synth.cohort import SlideSpec, generate_slide, plan_cohort
from hookseg.synth.labels import FINE_CODES, FINE_LABELS, write_code_table
from hookseg.synth.preview import contact_sheet

__all__ = [
    "FINE_CODES",
    "FINE_LABELS",
    "SlideSpec",
    "contact_sheet",
    "generate_cohort",
    "generate_slide",
    "plan_cohort",
    "write_code_table",
    "write_manifest",
]
