#!/usr/bin/env bash
# Builds the production Temporal server and its SQL schema tool once per machine, for the end-to-end tests on
# PostgreSQL persistence (tests/support/temporal-server.ts). No-op when both binaries are cached.
# The schema files need no copy: temporal-sql-tool embeds them (--schema-name postgresql/v12/temporal).
set -euo pipefail

TEMPORAL_SERVER_VERSION=1.29.1
TEMPORAL_SERVER_DIR="${HOME}/.cache/fireline/temporal-server/${TEMPORAL_SERVER_VERSION}"

if [ -x "${TEMPORAL_SERVER_DIR}/temporal-server" ] && [ -x "${TEMPORAL_SERVER_DIR}/temporal-sql-tool" ]; then
  echo "using cached ${TEMPORAL_SERVER_DIR}/temporal-server and temporal-sql-tool"
  exit 0
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="${PATH}:/usr/local/go/bin"
fi
command -v go >/dev/null 2>&1 || { echo "go is not installed: the Temporal server is built from its Go module"; exit 1; }

mkdir -p "${TEMPORAL_SERVER_DIR}"
# A temp GOBIN and a rename, so an interrupted build never leaves a half-written binary behind.
tmp_bin="$(mktemp -d "${TEMPORAL_SERVER_DIR}/.gobin-XXXXXX")"
build_log="${tmp_bin}.log"
trap 'rm -rf "${tmp_bin}" "${build_log}"' EXIT
modules=("go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}" "go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}")
echo "building with: CGO_ENABLED=0 GOBIN=${TEMPORAL_SERVER_DIR} go install ${modules[*]}"
CGO_ENABLED=0 GOBIN="${tmp_bin}" timeout 2400 go install -v "${modules[@]}" >"${build_log}" 2>&1 &
build_pid=$!
build_started=${SECONDS}
while kill -0 "${build_pid}" 2>/dev/null; do
  sleep 10
  echo "  still building… $((SECONDS - build_started))s, $(grep -c . "${build_log}" || true) packages so far, last: $(tail -n 1 "${build_log}")"
done
if ! wait "${build_pid}"; then
  echo "Temporal server build failed; last output:"
  tail -n 40 "${build_log}"
  exit 1
fi
mv "${tmp_bin}/sql" "${TEMPORAL_SERVER_DIR}/temporal-sql-tool"
mv "${tmp_bin}/server" "${TEMPORAL_SERVER_DIR}/temporal-server"
echo "built ${TEMPORAL_SERVER_DIR}/temporal-server and temporal-sql-tool in $((SECONDS - build_started))s"
