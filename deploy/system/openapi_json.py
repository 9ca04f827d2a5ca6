#!/usr/bin/env python3
"""Writes the JSON rendition beside each service's OpenAPI document (the YAML is the one
kept by hand; the services embed both and serve JSON on ?format=json or
Accept: application/json). With --check, writes nothing and exits 1 when a rendition is
missing or out of step with its YAML."""

import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCUMENTS = [
    "services/catalog/openapi/heroes.yaml",
    "services/catalog/openapi/villains.yaml",
    "services/locations/openapi.yaml",
    "services/fights/openapi.yaml",
]


def rendition(yaml_path: pathlib.Path) -> str:
    document = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for name in DOCUMENTS:
        source = ROOT / name
        target = source.with_suffix(".json")
        wanted = rendition(source)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == wanted:
            continue
        if check:
            stale.append(str(target.relative_to(ROOT)))
        else:
            target.write_text(wanted, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    for name in stale:
        print(f"{name} is not in step with its YAML: run {sys.argv[0]}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
