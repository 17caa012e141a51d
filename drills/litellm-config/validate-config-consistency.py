#!/usr/bin/env python3
"""Model consistency of a gateway config with its source files (seed 000, "Validation Scripts").

    validate-config-consistency.py [--source DIR] [CONFIG]

CONFIG defaults to DIR/litellm-unified.yaml; DIR to $CONFIG_SOURCE_DIR. Checks that every
model in DIR/model-mappings.yaml is served, under its provider, with the provider's settings
from DIR/providers.yaml; that the config serves no model the mappings do not know; and that
model names are not duplicated. Exits 1 listing every inconsistency, 0 when consistent.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise TypeError(f"{path}: top level is not a mapping")
    return data


def check(config: dict[str, Any], providers: dict[str, Any], mappings: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    known = providers.get("providers") or {}
    served: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(config.get("model_list") or []):
        name = entry.get("model_name") if isinstance(entry, dict) else None
        params = entry.get("litellm_params") if isinstance(entry, dict) else None
        if not name or not isinstance(params, dict) or not params.get("model"):
            problems.append(f"model_list[{i}]: needs model_name and litellm_params.model")
            continue
        if name in served:
            problems.append(f"model_list[{i}]: model {name!r} is listed twice")
        served[name] = params
        provider = str(params["model"]).split("/", 1)[0] if "/" in str(params["model"]) else ""
        if provider not in known:
            problems.append(
                f"model {name!r}: provider {provider or '(none)'!r} of {params['model']!r} is "
                f"not in providers.yaml ({', '.join(known)})"
            )
    wanted = {m["name"]: m for m in mappings.get("models") or [] if isinstance(m, dict)}
    for name, m in wanted.items():
        params = served.get(name)
        if params is None:
            problems.append(f"model {name!r} is in model-mappings.yaml but not in the config")
            continue
        expected = f"{m.get('provider')}/{m.get('model')}"
        if params.get("model") != expected:
            problems.append(
                f"model {name!r}: config says {params.get('model')!r}, "
                f"model-mappings.yaml says {expected!r}"
            )
        p = known.get(m.get("provider")) or {}
        if p.get("api_base") and params.get("api_base") != p["api_base"]:
            problems.append(
                f"model {name!r}: api_base {params.get('api_base')!r} differs from "
                f"providers.yaml ({p['api_base']!r})"
            )
    for name in served.keys() - wanted.keys():
        problems.append(f"model {name!r} is in the config but not in model-mappings.yaml")
    general = config.get("general_settings") or {}
    if not isinstance(general, dict) or not general.get("master_key"):
        problems.append("general_settings.master_key is missing")
    return problems


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--source", type=Path, default=os.environ.get("CONFIG_SOURCE_DIR"))
    p.add_argument("config", type=Path, nargs="?")
    args = p.parse_args()
    if args.source is None:
        p.error("no source dir: pass --source DIR or set CONFIG_SOURCE_DIR")
    config_path = args.config or args.source / "litellm-unified.yaml"
    try:
        problems = check(
            load(config_path),
            load(args.source / "providers.yaml"),
            load(args.source / "model-mappings.yaml"),
        )
    except (OSError, TypeError, ValueError, yaml.YAMLError) as exc:
        print(f"[✗] cannot check {config_path}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"[✗] {problem}", file=sys.stderr)
    if problems:
        print(f"[✗] {config_path}: {len(problems)} inconsistencies", file=sys.stderr)
        return 1
    print(f"[✓] {config_path}: consistent with {args.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
