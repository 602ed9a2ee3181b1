#!/usr/bin/env bash
# `npm run check:production-install`: what a production install gets works on its own. Builds dist/, packs
# the tree as npm would publish it (package.json "files"), installs it elsewhere with `npm ci --omit=dev`,
# checks that no development package came along, then starts the embedded stack from it and waits for
# GET /healthz to answer 200 before stopping it with SIGTERM, which must exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/fireline-production-install-XXXXXX")"
pid=""
cleanup() {
  if [ -n "${pid}" ] && kill -0 "${pid}" 2>/dev/null; then kill -KILL -- "-${pid}" 2>/dev/null || true; fi
  rm -rf "${work}"
}
trap cleanup EXIT

echo "== build"
npm run build --silent

echo "== pack and install with --omit=dev in ${work}"
tarball="$(npm pack --silent --pack-destination "${work}")"
tar -xzf "${work}/${tarball}" -C "${work}"
app="${work}/package"
# npm pack leaves the lock file out; `npm ci` installs exactly what it pins.
cp package-lock.json "${app}/"
# better-sqlite3 builds from source when its prebuilt download is unreachable; node-gyp then needs local headers.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
(cd "${app}" && npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error)

echo "== no development packages"
# The lock marks "dev" what only development dependencies need (@swc/core, say, stays: the worker's bundler needs it).
dev_only="$(node -e '
  const lock = require(process.argv[1]);
  const names = Object.entries(lock.packages).filter(([key, p]) => key.startsWith("node_modules/") && p.dev).map(([key]) => key.slice(13));
  console.log(names.join("\n"));
' "${repo}/package-lock.json")"
found=()
while read -r name; do
  [ -n "${name}" ] && [ -e "${app}/node_modules/${name}" ] && found+=("${name}")
done <<<"${dev_only}"
if [ "${#found[@]}" -gt 0 ]; then
  echo "development packages in the production install: ${found[*]}"
  exit 1
fi
for name in tsx typescript jest prettier smtp-server mailparser playwright-core @temporalio/testing; do
  grep -qx "${name}" <<<"${dev_only}" || { echo "${name} should be a development-only package"; exit 1; }
done
echo "none of the $(grep -c . <<<"${dev_only}") development-only packages"
[ ! -e "${app}/src" ] || { echo "TypeScript sources were packed: check package.json \"files\""; exit 1; }

echo "== fireline start from the production install"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port="$(free_port)"
dev_port="$(free_port)"
while [ $((dev_port + 1000)) -gt 65535 ]; do dev_port="$(free_port)"; done
log="${work}/fireline.log"
# A process group of its own, so the dev server it starts is stopped with it whatever happens.
(cd "${app}" && exec env -u TEMPORAL_ADDRESS -u DATABASE_URL FIRELINE_DATA_DIR="${work}/data" FIRELINE_PORT="${port}" \
  TEMPORAL_DEV_PORT="${dev_port}" FIRELINE_ADMIN_TOKEN=production-install-check-token-0123456789 \
  setsid node bin/fireline.cjs start >"${log}" 2>&1) &
pid=$!
started=${SECONDS}
until curl -fsS "http://127.0.0.1:${port}/healthz" >/dev/null 2>&1; do
  if ! kill -0 "${pid}" 2>/dev/null; then echo "fireline exited before it was healthy:"; tail -n 40 "${log}"; exit 1; fi
  if [ $((SECONDS - started)) -gt 120 ]; then echo "not healthy after 120 s:"; tail -n 40 "${log}"; exit 1; fi
  sleep 0.2
done
echo "healthy after $((SECONDS - started)) s on port ${port}"
kill -TERM "${pid}"
status=0
wait "${pid}" || status=$?
pid=""
if [ "${status}" -ne 0 ]; then echo "fireline exited ${status} after SIGTERM:"; tail -n 40 "${log}"; exit 1; fi
echo "stopped cleanly; the production install works"
