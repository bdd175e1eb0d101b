"""Over HTTP: a result past its budget, a transformation past its deadline, and truncated
originals are clear 4xx answers that are never kept; the server serves on afterwards."""

from __future__ import annotations

from collections.abc import Callable

import pyvips

from conftest import RunningServer, read_photo
from imaging import animated

Start = Callable[..., RunningServer]
TOKEN = "test-token"


def kept_results(server: RunningServer) -> int:
    results = server.parts.results
    return 0 if results is None else len(results)


def slow_animation() -> bytes:
    photo = pyvips.Image.new_from_buffer(read_photo("astronaut"), "")
    frames = [photo.crop(index * 3, index * 2, 300, 300) for index in range(60)]
    return animated(frames, "webpsave_buffer")


def test_a_result_past_the_budget_is_403(start_server: Start) -> None:
    server = start_server(max_output_pixels=1_000_000, detector_warm_start=False)
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))
    with server.client() as client:
        refused = client.get(server.image_url("w=2000,h=2000,fit=squeeze,f=webp", "cat.png"))
        gif = client.get(server.image_url("w=4000,h=4000,fit=squeeze,f=gif", "cat.png"))
        served = client.get(server.image_url("w=900,h=900,fit=squeeze,f=webp", "cat.png"))
    assert refused.status_code == 403 and refused.headers["Cf-Resized"] == "err=9413"
    assert "1,000,000" in refused.text
    assert gif.status_code == 403 and "GIF" in gif.text
    assert served.status_code == 200


def test_a_transformation_past_its_deadline_is_422_and_the_server_serves_on(
    start_server: Start,
) -> None:
    # One image thread: the next request is served only if the stopped work gave it back.
    server = start_server(
        transform_timeout=0.05,
        max_gif_output_pixels=10**9,
        concurrency=1,
        detector_warm_start=False,
    )
    (server.origin / "slow.webp").write_bytes(slow_animation())
    (server.origin / "cat.png").write_bytes(read_photo("chelsea"))
    with server.client() as client:
        stopped = client.get(server.image_url("w=600,f=gif", "slow.webp"))
        served = client.get(server.image_url("w=100,f=webp", "cat.png"))
    assert stopped.status_code == 422, stopped.text
    assert stopped.headers["Cf-Resized"] == "err=9516"
    assert "took longer than 0.05 s" in stopped.text
    assert served.status_code == 200
    assert kept_results(server) == 1  # only the served one


def test_truncated_originals_are_422_and_never_kept(start_server: Start) -> None:
    server = start_server(detector_warm_start=False)
    photos = {"cut.jpg": read_photo("biden"), "cut.png": read_photo("chelsea")}
    single = pyvips.Image.new_from_buffer(read_photo("coffee"), "").resize(0.5)
    photos["cut.gif"] = bytes(single.gifsave_buffer())
    for name, data in photos.items():
        (server.origin / name).write_bytes(data[: len(data) * 9 // 10])
    with server.client() as client:
        for name in photos:
            for options in ("width=100", "width=100,gravity=face", "format=webp"):
                response = client.get(server.image_url(options, name))
                assert response.status_code == 422, (name, options, response.text)
                assert response.headers["Cf-Resized"] == "err=9516"
                assert "truncated" in response.text
    assert kept_results(server) == 0


def test_a_truncated_upload_is_refused(start_server: Start) -> None:
    server = start_server(api_tokens=(TOKEN,), detector_warm_start=False)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    whole = read_photo("biden")
    with server.client() as client:
        refused = client.post(
            "/images/v1", headers=auth, files={"file": ("cut.jpg", whole[: len(whole) // 2])}
        )
        listed = client.get("/images/v1", headers=auth).json()["result"]["images"]
        accepted = client.post("/images/v1", headers=auth, files={"file": ("whole.jpg", whole)})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["success"] is False and "truncated" in body["errors"][0]["message"]
    assert listed == []
    assert accepted.status_code == 200
