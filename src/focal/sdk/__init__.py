"""The Images SDK: image pipelines built in code, run in this process or on a Focal server.

```python
from focal import Images

images = Images()  # or Images("http://127.0.0.1:8080", token="...")
result = (
    images.input(upload)
    .draw(images.input("watermark.png"), bottom=10, right=10, opacity=0.75)
    .output(format="image/avif")
)
result.content_type, result.bytes(), result.response()
```
"""

from focal.errors import ErrorKind, FocalError, OptionError
from focal.sdk.chain import Chain
from focal.sdk.images import Images
from focal.sdk.result import ImageInfo, Result

__all__ = ["Chain", "ErrorKind", "FocalError", "ImageInfo", "Images", "OptionError", "Result"]
