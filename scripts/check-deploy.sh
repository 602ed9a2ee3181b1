#!/usr/bin/env bash
# Checks the deployment shapes without a cluster or a Docker engine: `helm lint` and `helm template` of the chart
# with each values file in deploy/helm/fireline/ci/, the rendered manifests validated against the Kubernetes JSON
# schemas (kubeconform, strict: unknown fields fail), and `docker compose config -q` when the compose plugin is there.
# Tools are built or unpacked once per machine into ~/.cache/fireline/ from registries only (Go proxy, PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v4.3.2
KUBECONFORM_VERSION=v0.7.0
# kubernetes-validate bundles the JSON schemas per Kubernetes release, in yannh/kubernetes-json-schema's layout.
K8S_SCHEMAS_PACKAGE_VERSION=1.37.0
KUBERNETES_VERSION=1.33.0
CACHE="${HOME}/.cache/fireline"
HELM="${CACHE}/helm/${HELM_VERSION}/helm"
KUBECONFORM="${CACHE}/kubeconform/${KUBECONFORM_VERSION}/kubeconform"
SCHEMAS="${CACHE}/k8s-schemas/kubernetes-validate-${K8S_SCHEMAS_PACKAGE_VERSION}"
CHART=deploy/helm/fireline

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="${PATH}:/usr/local/go/bin"; fi

# A temp GOBIN and a rename, so an interrupted build never leaves a half-written binary behind.
go_install() {
  local target=$1 module=$2 dir tmp log pid started
  dir="$(dirname "${target}")"
  command -v go >/dev/null 2>&1 || { echo "${target} is missing and there is no Go toolchain to build ${module}"; exit 1; }
  mkdir -p "${dir}"
  tmp="$(mktemp -d "${dir}/.gobin-XXXXXX")"
  log="${tmp}.log"
  echo "building ${module} into ${target} (once per machine)"
  CGO_ENABLED=0 GOBIN="${tmp}" timeout 1800 go install -v "${module}" >"${log}" 2>&1 &
  pid=$!
  started=${SECONDS}
  while kill -0 "${pid}" 2>/dev/null; do
    sleep 10
    echo "  still building… $((SECONDS - started))s, last: $(tail -n 1 "${log}")"
  done
  if ! wait "${pid}"; then
    echo "build of ${module} failed; last output:"
    tail -n 40 "${log}"
    rm -rf "${tmp}" "${log}"
    exit 1
  fi
  mv "${tmp}/$(basename "${target}")" "${target}"
  rm -rf "${tmp}" "${log}"
}

[ -x "${HELM}" ] || go_install "${HELM}" "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}"
[ -x "${KUBECONFORM}" ] || go_install "${KUBECONFORM}" "github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}"

if [ ! -d "${SCHEMAS}" ]; then
  echo "unpacking the Kubernetes ${KUBERNETES_VERSION} schemas from kubernetes-validate ${K8S_SCHEMAS_PACKAGE_VERSION} (PyPI)"
  pip="$(command -v pip3 || command -v pip || true)"
  [ -n "${pip}" ] || { echo "pip is needed once to fetch kubernetes-validate's schemas"; exit 1; }
  tmp="$(mktemp -d "${CACHE}/.k8s-schemas-XXXXXX")"
  "${pip}" download --quiet --no-deps --only-binary=:all: -d "${tmp}" "kubernetes-validate==${K8S_SCHEMAS_PACKAGE_VERSION}"
  python3 - "${tmp}"/kubernetes_validate-*.whl "${tmp}/out" "v${KUBERNETES_VERSION}" <<'PY'
import json, os, sys, zipfile
wheel, out, version = sys.argv[1:]
prefix = "kubernetes_validate/kubernetes-json-schema/"
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(f"{prefix}{version}-local")]
    if not names:
        sys.exit(f"no {version} schemas in {wheel}")
    for n in names:
        if not n.endswith(".json"):
            continue
        # The package resolves "$ref": "/api/_definitions.json" against each schema's https://kubernetes.io/… $id
        # with its own loader. Without the $id and with a relative ref, kubeconform finds the file beside it.
        schema = json.loads(z.read(n).replace(b'"/api/_definitions.json#', b'"_definitions.json#'))
        schema.pop("$id", None)
        target = os.path.join(out, n)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            json.dump(schema, f)
PY
  mkdir -p "$(dirname "${SCHEMAS}")"
  mv "${tmp}/out/kubernetes_validate/kubernetes-json-schema" "${SCHEMAS}"
  rm -rf "${tmp}"
fi

echo "helm $("${HELM}" version --short), kubeconform ${KUBECONFORM_VERSION}, Kubernetes schemas v${KUBERNETES_VERSION}"
rendered="$(mktemp -d)"
trap 'rm -rf "${rendered}"' EXIT
for values in "${CHART}"/ci/*.yaml; do
  name="$(basename "${values}" .yaml)"
  "${HELM}" lint --strict --quiet "${CHART}" -f "${values}" --kube-version "${KUBERNETES_VERSION}"
  "${HELM}" template fireline "${CHART}" -f "${values}" --kube-version "${KUBERNETES_VERSION}" --namespace fireline >"${rendered}/${name}.yaml"
  "${KUBECONFORM}" -strict -summary -kubernetes-version "${KUBERNETES_VERSION}" \
    -schema-location "${SCHEMAS}/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    "${rendered}/${name}.yaml"
  echo "chart with ${values}: lint, template and schemas ok"
done

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  FIRELINE_ADMIN_TOKEN=check-deploy-compose-config-token docker compose config -q
  echo "docker-compose.yml is valid"
else
  echo "docker compose config skipped: no docker CLI with the compose plugin on this machine"
fi
