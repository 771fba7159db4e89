#!/usr/bin/env bash
# Regenerates Sources/LLMLabProto from Proto/ with Debian's protoc and the two generators
# built from the package's own pinned dependencies (no SwiftPM build plugin: its first
# build alone takes ~9 minutes). With --check, generates into a temp dir and fails when
# the committed sources differ.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=${1:-write}
if ! command -v protoc >/dev/null; then
  echo "protoc not found: run 'make deps' (apt-get install protobuf-compiler)" >&2
  exit 1
fi

swift build --product protoc-gen-swift >/dev/null
swift build --product protoc-gen-grpc-swift-2 >/dev/null
bin=$(swift build --show-bin-path)

out=$PWD/Sources/LLMLabProto
if [ "$mode" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

protos=$(cd Proto && find . -name '*.proto' | sed 's|^\./||' | sort)
opts="Visibility=Public,FileNaming=PathToUnderscores,UseAccessLevelOnImports=true"
if [ "$mode" != "--check" ]; then
  find "$out" -name '*.pb.swift' -delete
  find "$out" -name '*.grpc.swift' -delete
fi
(cd Proto && protoc \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
  --swift_out="$opts:$out" \
  --grpc-swift-2_out="$opts:$out" \
  -I . $protos) 2>&1 || { echo "protoc failed" >&2; exit 1; }

if [ "$mode" = "--check" ]; then
  if ! diff -r -x Placeholder.swift -x '*.md' "$out" Sources/LLMLabProto >/dev/null; then
    diff -r -x Placeholder.swift -x '*.md' "$out" Sources/LLMLabProto | head -40 >&2
    echo "Sources/LLMLabProto differs from what Proto/ generates: run 'make proto' and commit." >&2
    exit 1
  fi
  echo "generated code is up to date"
fi
