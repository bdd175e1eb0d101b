"""`GET /usage`: unique transformations, deliveries, stored images and cost, per day."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from focal.errors import ErrorKind, FocalError
from focal.server.api_models import TEXT_ERRORS, UsageReport
from focal.server.auth import AUTHORIZED
from focal.server.state import parts_of
from focal.service.calls_usage import calls_report_of

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


@router.get(
    "/usage",
    dependencies=AUTHORIZED,
    response_model=UsageReport,
    responses=TEXT_ERRORS,
)
async def usage(
    request: Request,
    first_day: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    last_day: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD")] = None,
) -> JSONResponse:
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD` (UTC days, both included; default the last 30 days)."""
    parts = parts_of(request)
    report = await asyncio.to_thread(
        parts.meter.report,  # this server's deliveries so far included
        _day(first_day, "from"),
        _day(last_day, "to"),
        price_per_1000=parts.settings.price_per_1000_transformations,
    )
    await asyncio.to_thread(parts.calls_egress.flush)  # this server's egress so far included
    report["calls"] = await asyncio.to_thread(
        calls_report_of, parts.catalog, parts.settings, report["from"], report["to"]
    )
    return JSONResponse(report)
