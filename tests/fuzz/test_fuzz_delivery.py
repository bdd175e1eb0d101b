"""Random option strings over HTTP, on originals of every kind and on a hosted image."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from hypothesis import example, given
from hypothesis import strategies as st

from conftest import RunningServer
from fuzzing import (
    FUZZ,
    HOSTED_ID,
    ORIGINALS,
    check_refusal_changed_nothing,
    module_server,
    stored_state,
)
from option_strategies import GOOD_VALUES, NAMES, nasty_values

server = module_server()


GOOD = sorted({value for values in GOOD_VALUES.values() for value in values})
pairs = st.tuples(
    st.one_of(st.sampled_from(NAMES), st.text(max_size=8)),
    st.one_of(
        st.sampled_from(sorted({v for vs in GOOD_VALUES.values() for v in vs})), nasty_values
    ),
)
option_strings = st.one_of(
    st.lists(pairs, max_size=8).map(lambda items: ",".join(f"{k}={v}" for k, v in items)),
    st.text(max_size=40),
)
sources = st.sampled_from([*ORIGINALS, "missing.jpg", ".hidden", "a/../photo.jpg"])
request_headers = st.fixed_dictionaries(
    {},
    optional={
        "Accept": st.sampled_from(["image/avif,image/webp", "image/webp", "*/*", "\u00e9"]),
        "Sec-CH-Width": st.sampled_from(["1", "800", "-5", "99999999999999999999", "x"]),
        "Save-Data": st.sampled_from(["on", "off", ""]),
        "RTT": st.sampled_from(["0", "200", "1e9", "nan"]),
        "If-None-Match": st.sampled_from(['"x"', "*", "W/", ""]),
        "Via": st.just("1.1 other-proxy"),  # Focal's own marker is a loop: 508 by design
    },
)


def _get(client: httpx.Client, path: str, headers: dict[str, str]) -> httpx.Response:
    # Characters a path can't carry as they are are sent escaped, as a browser would.
    # Header values go as Latin-1 bytes, which HTTP allows and httpx sends unchanged.
    encoded = {name: value.encode("latin-1") for name, value in headers.items()}
    return client.get(quote(path, safe="/,=;:@"), headers=encoded)


@FUZZ
@given(options=option_strings, source=sources, headers=request_headers)
@example(options="format=json,gravity=face", source="anim.gif", headers={})
@example(options="w=4000,h=4000,fit=squeeze,f=gif", source="photo.jpg", headers={})
def test_random_options_on_originals(
    server: RunningServer, options: str, source: str, headers: dict[str, str]
) -> None:
    with server.client() as client:
        before = stored_state(server, client)
        response = _get(client, f"/cdn-cgi/image/{options}/{source}", headers)
        check_refusal_changed_nothing(server, client, before, response)


@FUZZ
@given(options=option_strings, headers=request_headers)
def test_random_options_on_a_hosted_image(
    server: RunningServer, options: str, headers: dict[str, str]
) -> None:
    with server.client() as client:
        before = stored_state(server, client)
        response = _get(client, f"/images/{HOSTED_ID}/{options or 'public'}", headers)
        check_refusal_changed_nothing(server, client, before, response)
