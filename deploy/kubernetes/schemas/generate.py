"""Makes the JSON schemas kubeconform validates the chart against, from their sources' OpenAPI documents.

    python deploy/kubernetes/schemas/generate.py kubernetes SWAGGER_JSON
    python deploy/kubernetes/schemas/generate.py crd CRD_YAML...

`kubernetes`: Kubernetes' OpenAPI v2 document (swagger.json) -> `<kind>[-<group>]-<version>.json`, for the kinds the
chart renders only, each schema standalone (every $ref inlined) and strict (an object with listed properties takes no
others), as kubeconform's openapi2jsonschema makes them. `crd`: CustomResourceDefinitions -> `<group>/<kind>_<version>.json`
from each served version's openAPIV3Schema, strict likewise (except where the CRD keeps unknown fields).
Where each source came from, and at which version, is in README.md beside this file.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
# The Kubernetes kinds the chart renders (group "" is the core API).
KINDS = {
    ("", "v1", "ConfigMap"), ("", "v1", "Secret"), ("", "v1", "Service"), ("", "v1", "ServiceAccount"),
    ("apps", "v1", "Deployment"), ("autoscaling", "v2", "HorizontalPodAutoscaler"),
    ("policy", "v1", "PodDisruptionBudget"), ("networking.k8s.io", "v1", "NetworkPolicy"),
}


def strict(schema: Any, preserve: bool = False) -> Any:
    """Objects with listed properties take no others; int-or-string accepts either."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: strict(value) if key not in ("properties", "enum", "example", "default") else value
              for key, value in schema.items()}
    if "properties" in schema:
        keeps_unknown = schema.get("x-kubernetes-preserve-unknown-fields") is True
        schema["properties"] = {name: strict(value) for name, value in schema["properties"].items()}
        if not keeps_unknown and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    if schema.get("format") == "int-or-string" or schema.get("x-kubernetes-int-or-string") is True:
        for key in ("type", "format"):
            schema.pop(key, None)
        schema["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    return schema


def inline(schema: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(schema, list):
        return [inline(item, definitions, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # recursive types (JSONSchemaProps) are not in the kinds we render
            return {}
        resolved = inline(copy.deepcopy(definitions[name]), definitions, (*seen, name))
        extra = {key: value for key, value in schema.items() if key != "$ref"}
        return {**resolved, **extra}
    if "allOf" in schema and len(schema["allOf"]) == 1 and set(schema) <= {"allOf", "description", "default"}:
        return inline({**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}, definitions, seen)
    return {key: inline(value, definitions, seen) for key, value in schema.items()}


def kubernetes(swagger: Path) -> None:
    definitions = json.loads(swagger.read_text())["definitions"]
    written = set()
    for definition in definitions.values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            key = (gvk["group"], gvk["version"], gvk["kind"])
            if key not in KINDS:
                continue
            schema = strict(inline(copy.deepcopy(definition), definitions))
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            schema["properties"]["apiVersion"]["enum"] = [api_version]
            schema["properties"]["kind"]["enum"] = [gvk["kind"]]
            schema["$schema"] = "http://json-schema.org/schema#"
            group = gvk["group"].split(".")[0]
            filename = f"{gvk['kind'].lower()}{'-' + group if group else ''}-{gvk['version']}.json"
            (HERE / filename).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
            written.add(key)
    missing = KINDS - written
    if missing:
        raise SystemExit(f"not in {swagger}: {sorted(missing)}")


def crds(files: list[Path]) -> None:
    for file in files:
        for crd in yaml.safe_load_all(file.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served"):
                    continue
                schema = strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                schema["properties"]["apiVersion"] = {"type": "string", "enum": [f"{group}/{version['name']}"]}
                schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
                schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata", "spec"})
                schema["$schema"] = "http://json-schema.org/schema#"
                target = HERE / group / f"{kind.lower()}_{version['name']}.json"
                target.parent.mkdir(exist_ok=True)
                target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    what, *paths = sys.argv[1:]
    if what == "kubernetes":
        kubernetes(Path(paths[0]))
    elif what == "crd":
        crds([Path(path) for path in paths])
    else:
        raise SystemExit(__doc__)
