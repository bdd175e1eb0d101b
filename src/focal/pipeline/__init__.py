"""Pure image work on libvips: bytes and operations in, encoded bytes and facts out."""

from focal.pipeline.executor import Output, OutputSpec, measure, run
from focal.pipeline.geometry import Box
from focal.pipeline.operations import OPERATIONS, Operation
from focal.pipeline.source import Limits, SourceInfo, check_decodes, probe
from focal.pipeline.url_order import url_operations, url_output

__all__ = [
    "OPERATIONS",
    "Box",
    "Limits",
    "Operation",
    "Output",
    "OutputSpec",
    "SourceInfo",
    "check_decodes",
    "measure",
    "probe",
    "run",
    "url_operations",
    "url_output",
]
