"""Focal: self-hosted image optimization and delivery with face-aware cropping."""

__version__ = "0.1.0"
