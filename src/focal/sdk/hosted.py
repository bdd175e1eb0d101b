"""`images.hosted`: the hosted images API from code (remote mode), with the API's own shapes.

Images are stored once on the server and delivered as variants; this client uploads, lists,
reads, changes and deletes them, makes signed URLs and one-time upload URLs.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from focal.errors import FocalError
from focal.sdk.inputs import AnySource, ImageInput
from focal.sdk.remote import error_for
from focal.signing import signed_url


def error_from_envelope(response: httpx.Response) -> FocalError:
    """The exception an enveloped error answer (`{success: false, errors: [...]}`) stands for."""
    try:
        first = (response.json().get("errors") or [{}])[0]
        code, message = first.get("code"), str(first.get("message", ""))
    except (ValueError, AttributeError):
        code, message = None, response.text.strip()
    return error_for(code, response.status_code, message)


def _result(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise error_from_envelope(response)
    return response.json()["result"]


class HostedImage:
    """One stored image, by id."""

    def __init__(self, hosted: HostedImages, image_id: str) -> None:
        self.hosted = hosted
        self.id = image_id

    def details(self) -> dict[str, Any]:
        return dict(_result(self.hosted.client.get(f"/images/v1/{self.id}")))

    def bytes(self) -> bytes:
        response = self.hosted.client.get(f"/images/v1/{self.id}/blob")
        if response.status_code != 200:
            raise error_from_envelope(response)
        return response.content

    def update(
        self, *, metadata: dict[str, Any] | None = None, require_signed_urls: bool | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if metadata is not None:
            body["metadata"] = metadata
        if require_signed_urls is not None:
            body["requireSignedURLs"] = require_signed_urls
        return dict(_result(self.hosted.client.patch(f"/images/v1/{self.id}", json=body)))

    def delete(self) -> None:
        _result(self.hosted.client.delete(f"/images/v1/{self.id}"))

    def signed_url(self, variant: str = "public", expires_in: int = 3600) -> str:
        """A delivery URL valid for `expires_in` seconds, signed with the newest key."""
        keys = _result(self.hosted.client.get("/images/v1/keys"))["keys"]
        path = f"/images/{self.id}/{variant}"
        expires = int(time.time()) + expires_in
        return self.hosted.url + signed_url(keys[0]["value"], path, expires)


class HostedImages:
    def __init__(self, url: str, token: str | None, timeout: float, max_input_bytes: int) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self.max_input_bytes = max_input_bytes

    def upload(
        self,
        source: AnySource,
        *,
        id: str | None = None,  # noqa: A002  (the API's own name)
        metadata: dict[str, Any] | None = None,
        require_signed_urls: bool = False,
        filename: str = "upload",
    ) -> dict[str, Any]:
        """Store an original (bytes, a path, a file or chunks); returns its details."""
        data = ImageInput(source, self.max_input_bytes).data()
        fields = self._fields(id, metadata, require_signed_urls)
        response = self.client.post("/images/v1", files={"file": (filename, data)}, data=fields)
        return dict(_result(response))

    def upload_url(
        self,
        url: str,
        *,
        id: str | None = None,  # noqa: A002
        metadata: dict[str, Any] | None = None,
        require_signed_urls: bool = False,
    ) -> dict[str, Any]:
        """Have the server fetch the original from an allowed origin."""
        fields = {"url": url, **self._fields(id, metadata, require_signed_urls)}
        return dict(_result(self.client.post("/images/v1", data=fields)))

    @staticmethod
    def _fields(
        image_id: str | None, metadata: dict[str, Any] | None, require_signed_urls: bool
    ) -> dict[str, str]:
        fields = {"requireSignedURLs": "true" if require_signed_urls else "false"}
        if image_id is not None:
            fields["id"] = image_id
        if metadata is not None:
            fields["metadata"] = json.dumps(metadata)
        return fields

    def list(
        self,
        *,
        per_page: int = 1000,
        continuation_token: str | None = None,
        sort_order: str = "desc",
    ) -> tuple[list[dict[str, Any]], str | None]:
        params: dict[str, Any] = {"per_page": per_page, "sort_order": sort_order}
        if continuation_token:
            params["continuation_token"] = continuation_token
        result = _result(self.client.get("/images/v2", params=params))
        return list(result["images"]), result["continuation_token"]

    def image(self, image_id: str) -> HostedImage:
        return HostedImage(self, image_id)

    def create_direct_upload(
        self,
        *,
        expires_in: int | None = None,
        id: str | None = None,  # noqa: A002
        metadata: dict[str, Any] | None = None,
        require_signed_urls: bool = False,
    ) -> dict[str, Any]:
        """`{id, uploadURL}`: a URL that takes one upload, without a token, until it expires."""
        fields = self._fields(id, metadata, require_signed_urls)
        if expires_in is not None:
            fields["expiry"] = str(expires_in)
        return dict(_result(self.client.post("/images/v2/direct_upload", data=fields)))

    def close(self) -> None:
        self.client.close()
