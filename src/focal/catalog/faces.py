"""Face boxes remembered per original, so many variants of one image cost one detection."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from focal.catalog.schema import face_boxes


@dataclass(frozen=True)
class StoredFaces:
    width: int
    height: int
    faces: list[dict[str, object]]  # [{"box": [x1, y1, x2, y2], "score": s}, ...]


class FaceBoxStore:
    def __init__(self, engine: Engine, model: str) -> None:
        self.engine = engine
        self.model = model  # boxes of another model are not reused

    def get(self, content_hash: str) -> StoredFaces | None:
        query = select(face_boxes.c.width, face_boxes.c.height, face_boxes.c.faces).where(
            face_boxes.c.content_hash == content_hash, face_boxes.c.model == self.model
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return StoredFaces(int(row.width), int(row.height), json.loads(row.faces))

    def put(self, content_hash: str, stored: StoredFaces) -> None:
        values = {
            "content_hash": content_hash,
            "model": self.model,
            "width": stored.width,
            "height": stored.height,
            "faces": json.dumps(stored.faces),
            "detected_at": time.time(),
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(face_boxes.insert().values(**values))
        except IntegrityError:
            pass  # another process stored the same boxes first
