"""Build hook: generates the control-plane stubs (llmlab/v1/*_pb2.py, *_pb2.pyi,
*_pb2_grpc.py) from the repository's Proto/ directory with grpc_tools.protoc before
setuptools builds the package. Generated code is git-ignored and never committed.

Proto/ is found at $LLMLAB_PROTO_DIR, else ../../Proto (this file lives in sdks/python).
Without it, a build fails with a clear error unless the stubs are already there (an
sdist made by a build that had Proto/)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
OUT_PACKAGE = HERE / "llmlab" / "v1"


def proto_dir() -> Path | None:
    env = os.environ.get("LLMLAB_PROTO_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(HERE.parent.parent / "Proto")
    for candidate in candidates:
        if (candidate / "llmlab" / "v1").is_dir():
            return candidate.resolve()
    return None


def generate() -> None:
    source = proto_dir()
    if source is None:
        if any(OUT_PACKAGE.glob("*_pb2.py")):
            return  # an sdist that already carries the stubs
        sys.exit(
            "llmlab: cannot generate the control-plane stubs: the repository's Proto/ directory "
            "was not found (looked at $LLMLAB_PROTO_DIR and ../../Proto relative to sdks/python). "
            "Install from a checkout of the LLMLab repository (pip install ./sdks/python) "
            "or set LLMLAB_PROTO_DIR to the Proto/ directory."
        )
    try:
        from grpc_tools import protoc
        import grpc_tools
    except ImportError:
        sys.exit("llmlab: grpcio-tools is needed to build (it is in [build-system].requires)")
    protos = sorted(str(p.relative_to(source)) for p in (source / "llmlab" / "v1").glob("*.proto"))
    if not protos:
        sys.exit(f"llmlab: no .proto files under {source / 'llmlab' / 'v1'}")
    OUT_PACKAGE.mkdir(parents=True, exist_ok=True)
    for stale in OUT_PACKAGE.glob("*_pb2*.py*"):
        stale.unlink()  # a proto removed upstream must not leave its stubs behind
    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    out = str(HERE)
    args = ["grpc_tools.protoc", f"-I{source}", f"-I{well_known}", f"--python_out={out}",
            f"--pyi_out={out}", f"--grpc_python_out={out}", *protos]
    if protoc.main(args) != 0:
        sys.exit(f"llmlab: grpc_tools.protoc failed on {source}")
    (OUT_PACKAGE / "__init__.py").write_text(
        '"""Generated from Proto/llmlab/v1 at build time by setup.py; do not edit or commit."""\n')


generate()
setup()
