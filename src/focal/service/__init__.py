"""The service layer: resolve sources, run transformations off the event loop, describe results."""

from focal.service.delivery import Delivery, DeliveryService
from focal.service.hints import ClientHints
from focal.service.transform import Described, transform

__all__ = ["ClientHints", "Delivery", "DeliveryService", "Described", "transform"]
