"""albumentations 2.0.8 asks PyPI for a newer version at import (2 s timeout offline); opt out first.

Imported by ``hookseg/augment/__init__.py`` before any module that imports albumentations.
"""

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
