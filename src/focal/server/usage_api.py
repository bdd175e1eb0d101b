"""`GET /usage`: unique transformations, deliveries, stored images and cost, per day."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from focal.errors import ErrorKind, FocalError
from focal.server.auth import authorize
from focal.server.state import parts_of

router = APIRouter()


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FocalError(
            ErrorKind.BAD_REQUEST, f"{name} must be a date as YYYY-MM-DD, not {text!r}"
        ) from None


@router.get("/usage")
async def usage(request: Request) -> dict[str, Any]:
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD` (UTC days, both included; default the last 30 days)."""
    await authorize(request)
    parts = parts_of(request)
    return await asyncio.to_thread(
        parts.meter.report,  # this server's deliveries so far included
        _day(request.query_params.get("from"), "from"),
        _day(request.query_params.get("to"), "to"),
        price_per_1000=parts.settings.price_per_1000_transformations,
    )
