"""Watermark uploads: a page with an upload form; each upload gets a watermark drawn in its
bottom-right corner, is encoded as AVIF and stored, and the answer names the stored file.

Run alone it stores results in a folder (WATERMARK_STORE, default ./watermarked) and does
the image work in this process. With FOCAL_URL and FOCAL_TOKEN set it sends the same chain
to a Focal server instead (same code, same bytes) and stores the result in that server's
hosted storage, as image id `watermarked/<name>`.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.datastructures import UploadFile

from focal import Images
from focal.errors import FocalError

WATERMARK = Path(__file__).with_name("watermark.png")
CHUNK = 1024 * 1024
HOSTED_FOLDER = "watermarked"  # image ids in the server's hosted storage start with this

PAGE = """<!DOCTYPE html>
<html>
  <head><meta charset="UTF-8"><title>Upload Image</title></head>
  <body>
    <h1>Upload an image</h1>
    <form method="POST" enctype="multipart/form-data">
      <input type="file" name="image" accept="image/*" required />
      <button type="submit">Upload</button>
    </form>
  </body>
</html>
"""


async def chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    """The upload as a stream: the SDK refuses one over its limit before holding it whole."""
    while chunk := await upload.read(CHUNK):
        yield chunk


def create_app(images: Images | None = None, store: Path | None = None) -> FastAPI:
    if images is None:
        images = Images(os.environ.get("FOCAL_URL") or None, token=os.environ.get("FOCAL_TOKEN"))
    folder = store or Path(os.environ.get("WATERMARK_STORE", "watermarked"))
    watermark = images.input(WATERMARK).transform(width=100, height=100)
    app = FastAPI(title="Watermark uploads")

    @app.get("/")
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.post("/")
    async def upload(request: Request) -> PlainTextResponse:
        form = await request.form()
        file = form.get("image")
        if not isinstance(file, UploadFile):
            return PlainTextResponse("No image file provided", status_code=400)
        try:
            result = await (
                images.input(chunks(file))
                .draw(watermark, bottom=10, right=10, opacity=0.75)
                .output_async(format="image/avif")
            )
        except FocalError as error:
            return PlainTextResponse(error.message, status_code=error.status)
        name = f"image-{time.time_ns() // 1_000_000}-{uuid.uuid4().hex[:8]}.avif"
        try:
            if images.is_remote:
                await asyncio.to_thread(
                    images.hosted.upload, result.bytes(), id=f"{HOSTED_FOLDER}/{name}"
                )
            else:
                await asyncio.to_thread(_store, folder / name, result.bytes())
        except FocalError as error:
            return PlainTextResponse(error.message, status_code=error.status)
        return PlainTextResponse(f"Image uploaded successfully as {name}")

    return app


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


if __name__ == "__main__":
    import uvicorn

    host = os.environ.get("HOST", "127.0.0.1")
    uvicorn.run(create_app(), host=host, port=int(os.environ.get("PORT", "8000")))
