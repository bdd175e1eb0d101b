"""The hosted-images catalog: image records, variants, signing keys, API tokens
and the settings of the hosted API.

Every method is synchronous and one transaction; callers in async code run them in threads.
"""

from __future__ import annotations

from focal.catalog.config import ConfigStore
from focal.catalog.images import ImageRecord, ImageStore
from focal.catalog.signing_keys import SigningKeyStore
from focal.catalog.tokens import TokenStore
from focal.catalog.variants import VariantRecord, VariantStore

__all__ = ["HostedCatalog", "ImageRecord", "VariantRecord"]


class HostedCatalog(ImageStore, VariantStore, SigningKeyStore, TokenStore, ConfigStore):
    """One engine, five stores; each store also works on its own."""
