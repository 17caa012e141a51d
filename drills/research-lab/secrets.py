#!/usr/bin/env python3
"""The team's Secrets Manager helper (boto3; the seed's `aws secretsmanager` calls).

    secrets.py create FILE          create SECRET_ID with FILE's json; prints its version id
    secrets.py put FILE             a new version (the previous one becomes AWSPREVIOUS)
    secrets.py get [VERSION_ID]     the value (AWSCURRENT by default), as json
    secrets.py versions             version ids and their stages, newest first
    secrets.py previous             the AWSPREVIOUS version id
    secrets.py current              the AWSCURRENT version id
    secrets.py promote VERSION_ID   make VERSION_ID AWSCURRENT again (update_secret_version_stage)
    secrets.py env [VERSION_ID]     the value as KEY=VALUE lines (the Kubernetes secret's file)

Contract: AWS_ENDPOINT_URL, AWS_*; SECRET_ID (default llm-research/production).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3

SECRET_ID = os.environ.get("SECRET_ID") or "llm-research/production"


def client() -> Any:
    return boto3.session.Session().client(
        "secretsmanager",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        region_name=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"),
    )


def value(sm: Any, version: str | None) -> dict[str, str]:
    args = {"SecretId": SECRET_ID, **({"VersionId": version} if version else {})}
    data = json.loads(sm.get_secret_value(**args)["SecretString"])
    if not isinstance(data, dict):
        sys.exit(f"secrets.py: {SECRET_ID} is not a json object")
    return {str(k): str(v) for k, v in data.items()}


def stages(sm: Any) -> dict[str, list[str]]:
    found = sm.list_secret_version_ids(SecretId=SECRET_ID, IncludeDeprecated=True)["Versions"]
    return {v["VersionId"]: v.get("VersionStages", []) for v in found}


def staged(sm: Any, stage: str) -> str:
    for version, names in stages(sm).items():
        if stage in names:
            return version
    sys.exit(f"secrets.py: {SECRET_ID} has no {stage} version")


def main(argv: list[str]) -> int:
    sm = client()
    cmd, args = (argv[0], argv[1:]) if argv else ("", [])
    if cmd == "create" and len(args) == 1:
        text = Path(args[0]).read_text()
        print(sm.create_secret(Name=SECRET_ID, SecretString=text)["VersionId"])
    elif cmd == "put" and len(args) == 1:
        text = Path(args[0]).read_text()
        print(sm.put_secret_value(SecretId=SECRET_ID, SecretString=text)["VersionId"])
    elif cmd == "get" and len(args) <= 1:
        print(json.dumps(value(sm, args[0] if args else None)))
    elif cmd == "versions" and not args:
        for version, names in stages(sm).items():
            print(version, ",".join(names) or "-")
    elif cmd in ("previous", "current") and not args:
        print(staged(sm, "AWSPREVIOUS" if cmd == "previous" else "AWSCURRENT"))
    elif cmd == "promote" and len(args) == 1:
        current = staged(sm, "AWSCURRENT")
        if current != args[0]:
            sm.update_secret_version_stage(
                SecretId=SECRET_ID,
                VersionStage="AWSCURRENT",
                MoveToVersionId=args[0],
                RemoveFromVersionId=current,
            )
        print(staged(sm, "AWSCURRENT"))
    elif cmd == "env" and len(args) <= 1:
        for key, val in value(sm, args[0] if args else None).items():
            if "\n" in val:
                sys.exit(f"secrets.py: {key} holds a newline; an env file cannot carry it")
            print(f"{key}={val}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
