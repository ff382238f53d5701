#!/usr/bin/env bash
# Validates the deployment manifests offline: no Docker engine, no cluster, no network.
#
#   deploy/validate.sh [--install]
#
# 1. deploy/compose.yaml: `docker-compose config -q` (Compose's own schema), then
#    deploy/validate_manifests.py on the resolved file (127.0.0.1-only ports, health checks,
#    start order, stop grace).
# 2. deploy/k8s/base and each overlay in deploy/k8s/overlays/: rendered by kustomize (`kustomize
#    build`, or the one built into `kubectl kustomize`), every object validated strictly against
#    the Kubernetes OpenAPI schemas of $K8S_VERSIONS bundled in kubernetes-validate, then
#    cross-checked by deploy/validate_manifests.py (selectors, ports, probes, shutdown budget,
#    security context, resources, autoscaler and disruption budget bounds, references).
# 3. With RESONANCE_BIN=path/to/resonance, every container's environment and TOML file must be
#    accepted by `resonance config` and every command the manifests run must be a subcommand.
#
# --install (CI uses it) installs what is missing: the pinned Python packages of
# deploy/requirements-validate.txt into a virtualenv under ~/.cache/resonance, and Debian's
# docker-compose with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

# 1.30 is the oldest Kubernetes these manifests support (the preStop `sleep` action);
# 1.37 the newest whose schemas kubernetes-validate bundles.
K8S_VERSIONS="${K8S_VERSIONS:-1.30.0 1.37.0}"
VENV="${RESONANCE_VALIDATE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/resonance/validate-venv}"
REQUIREMENTS=deploy/requirements-validate.txt
install=false
[ "${1:-}" = "--install" ] && install=true

fail() { echo "deploy/validate.sh: $*" >&2; exit 1; }

# Python: the virtualenv when it holds exactly the pinned requirements, else python3 if it can
# import them.
if ! cmp -s "$REQUIREMENTS" "$VENV/requirements-validate.txt" 2>/dev/null; then
  if $install; then
    echo "installing $REQUIREMENTS into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    cp "$REQUIREMENTS" "$VENV/requirements-validate.txt"
  fi
fi
if [ -f "$VENV/requirements-validate.txt" ]; then
  PYTHON="$VENV/bin/python"
elif python3 -c 'import kubernetes_validate, yaml' 2>/dev/null; then
  PYTHON=python3
else
  fail "kubernetes-validate is missing: run deploy/validate.sh --install, or pip install -r $REQUIREMENTS"
fi

if ! command -v docker-compose >/dev/null 2>&1; then
  if $install && command -v apt-get >/dev/null 2>&1; then
    echo "installing docker-compose (Debian)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  else
    fail "docker-compose is missing: apt-get install docker-compose (or run deploy/validate.sh --install)"
  fi
fi

if command -v kustomize >/dev/null 2>&1; then
  KUSTOMIZE=(kustomize build)
elif command -v kubectl >/dev/null 2>&1; then
  KUSTOMIZE=(kubectl kustomize)
else
  fail "neither kustomize nor kubectl is installed (kubectl kustomize renders the overlays)"
fi

check=("$PYTHON" deploy/validate_manifests.py)
if [ -n "${RESONANCE_BIN:-}" ]; then
  [ -x "$RESONANCE_BIN" ] || fail "RESONANCE_BIN=$RESONANCE_BIN is not an executable"
  check+=(--resonance-bin "$RESONANCE_BIN")
fi
versions=()
for v in $K8S_VERSIONS; do versions+=(--k8s-version "$v"); done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0

echo "docker-compose $(docker-compose version --short 2>/dev/null || echo '?'): deploy/compose.yaml"
# Compose interpolates ${VAR:-default} from the environment: validate the file's own defaults.
env -u RESONANCE_POSTGRES_PORT -u RESONANCE_NATS_PORT \
  docker-compose -f deploy/compose.yaml config -q || status=1
env -u RESONANCE_POSTGRES_PORT -u RESONANCE_NATS_PORT \
  docker-compose -f deploy/compose.yaml config > "$work/compose.yaml" || status=1
"${check[@]}" compose "$work/compose.yaml" --label deploy/compose.yaml || status=1

echo "${KUSTOMIZE[*]} ($("$PYTHON" -c 'import kubernetes_validate as k; print("kubernetes-validate", k.__version__)')): deploy/k8s"
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  out="$work/$name.yaml"
  if ! "${KUSTOMIZE[@]}" "$dir" > "$out"; then
    status=1
    continue
  fi
  args=("${versions[@]}")
  # Overlays deploy: their images must carry a tag. Prod's Secret is created out of band.
  [ "$name" != base ] && args+=(--require-tagged-images)
  [ "$name" = prod ] && args+=(--external-secret resonance-secrets)
  "${check[@]}" k8s "$out" --label "$dir" "${args[@]}" || status=1
done

if [ "$status" -ne 0 ]; then
  echo "deploy manifests: FAILED" >&2
  exit 1
fi
echo "deploy manifests: ok"
