"""Cohort manifests and patient-level splits."""

from hookseg.cohort.manifest import SPLITS, Manifest, SlideRecord, read_manifest
from hookseg.cohort.splits import assign_patient_splits

__all__ = ["SPLITS", "Manifest", "SlideRecord", "assign_patient_splits", "read_manifest"]
