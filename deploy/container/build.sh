#!/usr/bin/env bash
# Builds the services' image with the first container builder found: docker, podman or buildah.
#   deploy/container/build.sh [IMAGE[:TAG]]      default: cpc-services:<git short hash>
# Push it to your registry yourself (docker push ...), then set image.repository and image.tag in the chart's values.
set -euo pipefail
cd "$(dirname "$0")/../.."

image="${1:-cpc-services:$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"
dockerfile=deploy/container/Dockerfile

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  builder=(docker build)
elif command -v podman >/dev/null; then
  builder=(podman build)
elif command -v buildah >/dev/null; then
  builder=(buildah bud)
else
  echo "build.sh: no container builder here (docker with a running engine, podman or buildah): cannot build $image." >&2
  echo "build.sh: install one of them, or build $dockerfile in CI where one runs. (./dev k8s-check lints the Dockerfile.)" >&2
  exit 3
fi

echo "build.sh: ${builder[*]} -t $image -f $dockerfile ."
exec "${builder[@]}" -t "$image" -f "$dockerfile" .
