"""Deliveries as HTTP responses, for the delivery routes of the app and of hosted images."""

from __future__ import annotations

from fastapi.responses import Response

from focal.header_values import header_value, url_header_value
from focal.service.delivery import Delivery


def delivery_response(delivery: Delivery) -> Response:
    """A delivery as HTTP; header values made from paths, URLs or messages made valid."""
    headers = {
        name: url_header_value(value) if name.lower() == "location" else header_value(value)
        for name, value in delivery.headers.items()
    }
    return Response(delivery.body, status_code=delivery.status, headers=headers)
