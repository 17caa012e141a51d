"""Evidence bundles per run, chained and optionally signed; and their verification.

    bundle = write_evidence(result, scenario, report_dir)   # reports/<run-id>/evidence/
    problems = verify_evidence(Path("reports"))              # [] when every byte and link holds
"""

from __future__ import annotations

from drillbook.evidence.bundle import (
    BUNDLE,
    CHAIN_HEAD,
    KEY_ENV,
    MANIFEST,
    OPERATOR_ENV,
    PUBLIC_KEY,
    SIGNATURE,
    EvidenceRecord,
    Manifest,
    find_bundles,
    procedure_files,
    write_evidence,
)
from drillbook.evidence.verify import verify_evidence

__all__ = [
    "BUNDLE",
    "CHAIN_HEAD",
    "KEY_ENV",
    "MANIFEST",
    "OPERATOR_ENV",
    "PUBLIC_KEY",
    "SIGNATURE",
    "EvidenceRecord",
    "Manifest",
    "find_bundles",
    "procedure_files",
    "verify_evidence",
    "write_evidence",
]
