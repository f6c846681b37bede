"""Automatic diagnosis: from recorded signals to ranked findings with evidence and experiments."""

from debugkit.diagnose.engine import diagnose_run
from debugkit.diagnose.findings import FINDING_TYPES, Finding, FindingType
from debugkit.diagnose.report import Report
from debugkit.diagnose.rules import RULES

__all__ = ["FINDING_TYPES", "Finding", "FindingType", "RULES", "Report", "diagnose_run"]
