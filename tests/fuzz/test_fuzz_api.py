"""Random JSON bodies, form fields and query parameters for every API route."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conftest import RunningServer
from fuzzing import (
    AUTH,
    FUZZ,
    HOSTED_ID,
    ORIGINALS,
    check_refusal_changed_nothing,
    module_server,
    stored_state,
)
from option_strategies import GOOD_VALUES, nasty_values

server = module_server()


def nested(depth: int) -> str:
    """JSON text nested `depth` deep, small enough for every byte limit."""
    return "[" * depth + "]" * depth


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(sorted({value for values in GOOD_VALUES.values() for value in values})),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def objects_with(keys: list[str], values: st.SearchStrategy[Any] = json_values) -> Any:
    """Objects made of the keys a route reads (so generated bodies reach deep), or anything."""
    return st.one_of(st.dictionaries(st.sampled_from(keys), values, max_size=len(keys)), values)


OPTION_KEYS = ["fit", "width", "height", "metadata", "gravity", "quality", "format"]
variant_bodies = objects_with(
    ["id", "options", "neverRequireSignedURLs"],
    st.one_of(objects_with(OPTION_KEYS), json_values),
)
image_patches = objects_with(["metadata", "requireSignedURLs"])
operation = objects_with(
    ["op", "angle", "direction", "width", "height", "fit", "radius", "input", "operations"],
    st.one_of(
        st.sampled_from(["rotate", "flip", "resize", "blur", "draw", "trim", "adjust"]),
        json_values,
    ),
)
chains = st.one_of(
    st.fixed_dictionaries(
        {
            "operations": st.one_of(st.lists(operation, max_size=4), json_values),
            "output": objects_with(["format", "quality", "anim"]),
        }
    ),
    json_values,
)
form_fields = st.dictionaries(
    st.sampled_from(["id", "metadata", "requireSignedURLs", "url", "expiry"]),
    st.one_of(st.text(max_size=40), json_values.map(json.dumps), nasty_values),
    max_size=4,
)
query_values = st.one_of(st.text(max_size=30), nasty_values, st.just("9" * 30))


def _json_text(value: Any) -> st.SearchStrategy[str]:
    return st.just(json.dumps(value))


json_texts = st.one_of(
    json_values.flatmap(_json_text),
    st.integers(min_value=1, max_value=6000).map(nested),
    st.text(max_size=30),
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """One request to one API route, with a body, form or query of its kind."""
    route = draw(
        st.sampled_from(
            [
                "create variant",
                "update variant",
                "update image",
                "upload",
                "direct upload url",
                "list v1",
                "list v2",
                "transform",
                "info",
            ]
        )
    )
    if route == "create variant":
        body = draw(st.one_of(variant_bodies.flatmap(_json_text), json_texts))
        return {"method": "POST", "url": "/images/v1/variants", "content": body}
    if route == "update variant":
        body = draw(st.one_of(variant_bodies.flatmap(_json_text), json_texts))
        return {"method": "PATCH", "url": "/images/v1/variants/thumb", "content": body}
    if route == "update image":
        body = draw(st.one_of(image_patches.flatmap(_json_text), json_texts))
        return {"method": "PATCH", "url": f"/images/v1/{HOSTED_ID}", "content": body}
    if route in ("upload", "direct upload url"):
        fields = draw(form_fields)
        url = "/images/v1" if route == "upload" else "/images/v2/direct_upload"
        files = {"file": ("photo.jpg", ORIGINALS["photo.jpg"])} if route == "upload" else None
        if files and "url" in fields:
            files = None
        return {"method": "POST", "url": url, "data": fields, "files": files}
    if route == "list v1":
        params = draw(st.dictionaries(st.sampled_from(["page", "per_page"]), query_values))
        return {"method": "GET", "url": "/images/v1", "params": params}
    if route == "list v2":
        keys = st.sampled_from(["per_page", "continuation_token", "sort_order"])
        return {
            "method": "GET",
            "url": "/images/v2",
            "params": draw(st.dictionaries(keys, query_values)),
        }
    chain = draw(st.one_of(chains.flatmap(_json_text), json_texts))
    files: dict[str, Any] = {"input-0": ("input-0", ORIGINALS["alpha.png"])}
    if route == "transform":
        files["chain"] = (None, chain)
    return {"method": "POST", "url": f"/{route}", "files": files}


@FUZZ
@given(request=requests())
@example(request={"method": "POST", "url": "/images/v1/variants", "content": '{"options": [1]}'})
@example(request={"method": "GET", "url": "/images/v1", "params": {"page": "9" * 30}})
@example(request={"method": "GET", "url": "/images/v1", "params": {"per_page": "abc"}})
@example(request={"method": "PATCH", "url": f"/images/v1/{HOSTED_ID}", "content": nested(5000)})
def test_random_bodies_for_every_api_route(server: RunningServer, request: dict[str, Any]) -> None:
    with server.client() as client:
        before = stored_state(server, client)
        response = client.request(headers=AUTH, **{k: v for k, v in request.items() if v})
        check_refusal_changed_nothing(server, client, before, response)
        if request["url"].startswith("/images/"):
            assert response.headers["content-type"] == "application/json", response.text
            body = response.json()
            assert body["success"] is (response.status_code == 200), body
