"""The app's /openapi.json: unique operation ids, and the bodies handlers read themselves.

The request bodies that the handlers read after their checks (see server/api_models.py)
are added to the components their `$ref`s point at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from focal.server.api_models import REQUEST_MODELS

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def get_and_head(
    router: APIRouter | FastAPI, path: str, **options: Any
) -> Callable[[Endpoint], Endpoint]:
    """Serve `path` on GET and HEAD as two routes: one route of both methods would publish
    one operation id twice. GET is registered first, so a 405 there names GET."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.get(path, **options)(endpoint)
        router.head(path, **options)(endpoint)
        return endpoint

    return register


def component_schemas(models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    _, schema = models_json_schema(
        [(model, "validation") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    definitions: dict[str, Any] = schema.get("$defs", {})
    return definitions


def published_schema(app: FastAPI) -> dict[str, Any]:
    """What /openapi.json answers; made once."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in component_schemas(REQUEST_MODELS).items():
            if name in schemas and schemas[name] != definition:
                raise ValueError(f"two different schemas are named {name} in the API")
            schemas[name] = definition
        app.openapi_schema = schema
    return app.openapi_schema
