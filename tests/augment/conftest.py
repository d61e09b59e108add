"""albumentations asks PyPI for updates at import unless told not to; these tests import it directly."""

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
