"""Evidence bundles: what they hold, and that any changed byte or missing run is detected."""

from __future__ import annotations

import hashlib
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drillbook.errors import DrillbookError
from drillbook.evidence import (
    CHAIN_HEAD,
    OPERATOR_ENV,
    procedure_files,
    verify_evidence,
    write_evidence,
)
from drillbook.result import RunResult
from drillbook.scenario.loader import load_scenario
from drillbook.scenario.model import Scenario
from drillbook.testing import healthy_drill, make_result

API_KEY = "canary-sk-7f3a9c"

SCENARIO = f"""
name: restore-drill
services:
  db: {{kind: postgres}}
env:
  API_KEY: "{API_KEY}"
seed:
  - {{kind: sql, service: db, file: fixtures/seed.sql}}
  - {{kind: run, id: backup, run: drills/backup.sh}}
steady_state:
  - {{kind: sql, service: db, query: "select 1", expect: ">= 1"}}
fault:
  - {{kind: db.drop_table, service: db, table: configs}}
recovery:
  - {{kind: run, run: "drills/restore.sh ${{steps.backup.stdout}}"}}
  - {{kind: run, run: "echo done"}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "drills").mkdir(parents=True)
    (root / "fixtures").mkdir()
    (root / "drills" / "backup.sh").write_text("#!/bin/sh\necho backup\n")
    (root / "drills" / "restore.sh").write_text("#!/bin/sh\necho restore\n")
    (root / "fixtures" / "seed.sql").write_text("create table configs (id int);\n")
    (root / "drill.yaml").write_text(textwrap.dedent(SCENARIO).lstrip())
    return root


@pytest.fixture
def scenario(project: Path) -> Scenario:
    return load_scenario(project / "drill.yaml")


def _result(n: int) -> RunResult:
    b = healthy_drill().fact("service.db.version", "15.4").fact("service.db.engine", "postgres")
    result = make_result(b.journal())
    return result.model_copy(update={"run_id": f"run-{n}"})


def _chain(reports: Path, scenario: Scenario, runs: int = 3, **kw: Path) -> list[Path]:
    return [
        write_evidence(_result(n), scenario, reports / f"run-{n}", **kw)
        for n in range(1, runs + 1)
    ]


def _key(path: Path) -> Path:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    return path


def _flip_byte(path: Path, at: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_bundle_holds_scenario_scripts_versions_marks_journal_and_verdict(
    tmp_path: Path, scenario: Scenario, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OPERATOR_ENV, "alice")
    result = _result(1)
    bundle = write_evidence(result, scenario, tmp_path / "reports" / "run-1")

    assert sorted(p.name for p in bundle.iterdir()) == [
        "evidence.json", "journal.json", "manifest.json", "scenario.yaml", "verdict.json",
    ]
    record = json.loads((bundle / "evidence.json").read_text())
    source = (project / "drill.yaml").read_bytes()
    assert record["scenario_sha256"] == hashlib.sha256(source).hexdigest()
    scripts = {s["path"]: s["sha256"] for s in record["scripts"]}
    for name in ("drills/backup.sh", "drills/restore.sh", "fixtures/seed.sql"):
        assert scripts[name] == hashlib.sha256((project / name).read_bytes()).hexdigest()
    assert record["versions"]["services"]["db"] == {"version": "15.4", "engine": "postgres"}
    assert record["versions"]["python"] and record["versions"]["drillbook"]
    assert record["operator"] == "alice" and record["host"]
    assert [m["name"] for m in record["marks"]] == [m.name for m in result.journal.marks]
    assert all(m["utc"] for m in record["marks"])
    assert json.loads((bundle / "verdict.json").read_text())["status"] == "PASS"
    assert json.loads((bundle / "journal.json").read_text())["run_id"] == "run-1"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["previous"] is None and manifest["sequence"] == 1
    assert set(manifest["files"]) == {
        "evidence.json", "journal.json", "scenario.yaml", "verdict.json",
    }


def test_procedure_files_resolve_against_the_scenario_folder(scenario: Scenario) -> None:
    found = {(step, written) for step, written, _ in procedure_files(scenario)}
    assert found == {
        ("seed[0]", "fixtures/seed.sql"),
        ("seed[1]", "drills/backup.sh"),
        ("recovery[0]", "drills/restore.sh"),
    }


def test_scenario_secret_is_masked_but_the_original_hash_is_kept(
    tmp_path: Path, scenario: Scenario
) -> None:
    bundle = write_evidence(_result(1), scenario, tmp_path / "reports" / "run-1")

    for path in bundle.iterdir():
        assert API_KEY not in path.read_text(), path.name
    record = json.loads((bundle / "evidence.json").read_text())
    assert record["scenario_redacted"] is True
    assert "API_KEY" in (bundle / "scenario.yaml").read_text()


def test_untouched_chain_of_three_runs_has_no_problems(
    tmp_path: Path, scenario: Scenario
) -> None:
    reports = tmp_path / "reports"
    bundles = _chain(reports, scenario)

    assert verify_evidence(reports) == []
    for bundle in bundles:
        assert verify_evidence(bundle) == []
        assert verify_evidence(bundle.parent) == []
    manifests = [json.loads((b / "manifest.json").read_text()) for b in bundles]
    assert [m["sequence"] for m in manifests] == [1, 2, 3]
    assert manifests[2]["previous"] == hashlib.sha256(
        (bundles[1] / "manifest.json").read_bytes()
    ).hexdigest()


@pytest.mark.parametrize(
    "name", ["scenario.yaml", "evidence.json", "journal.json", "verdict.json"]
)
def test_one_changed_byte_in_any_file_is_detected(
    tmp_path: Path, scenario: Scenario, name: str
) -> None:
    reports = tmp_path / "reports"
    bundles = _chain(reports, scenario)
    _flip_byte(bundles[1] / name)

    problems = verify_evidence(reports)
    assert any(name in p and "changed" in p for p in problems), problems
    assert verify_evidence(bundles[1]) != []


def test_a_changed_manifest_breaks_the_chain(tmp_path: Path, scenario: Scenario) -> None:
    reports = tmp_path / "reports"
    bundles = _chain(reports, scenario)
    manifest = bundles[1] / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"run_id": "run-2"', '"run_id": "run-2" '))

    assert any("chain gap" in p for p in verify_evidence(reports))


def test_removing_a_run_from_the_middle_of_the_chain_is_detected(
    tmp_path: Path, scenario: Scenario
) -> None:
    reports = tmp_path / "reports"
    _chain(reports, scenario)
    shutil.rmtree(reports / "run-2")

    problems = verify_evidence(reports)
    assert any("chain gap" in p and "run-3" in p and "'run-2'" in p for p in problems), problems


def test_removing_the_newest_run_is_detected_by_the_chain_head(
    tmp_path: Path, scenario: Scenario
) -> None:
    reports = tmp_path / "reports"
    _chain(reports, scenario)
    shutil.rmtree(reports / "run-3")

    assert any("newest run 'run-3'" in p for p in verify_evidence(reports))


def test_added_and_missing_files_are_detected(tmp_path: Path, scenario: Scenario) -> None:
    bundle = write_evidence(_result(1), scenario, tmp_path / "reports" / "run-1")
    (bundle / "extra.txt").write_text("hello")
    (bundle / "verdict.json").unlink()

    problems = verify_evidence(bundle)
    assert any("extra.txt is not in the manifest" in p for p in problems)
    assert any("verdict.json is missing" in p for p in problems)


def test_the_chain_continues_from_the_newest_bundle_when_the_head_file_is_gone(
    tmp_path: Path, scenario: Scenario
) -> None:
    reports = tmp_path / "reports"
    _chain(reports, scenario, runs=2)
    (reports / CHAIN_HEAD).unlink()
    write_evidence(_result(3), scenario, reports / "run-3")

    manifest = json.loads((reports / "run-3" / "evidence" / "manifest.json").read_text())
    assert (manifest["previous_run"], manifest["sequence"]) == ("run-2", 3)
    assert verify_evidence(reports) == []


def test_signed_bundles_verify_and_a_bad_signature_is_detected(
    tmp_path: Path, scenario: Scenario
) -> None:
    reports = tmp_path / "reports"
    key = _key(tmp_path / "key.pem")
    bundles = _chain(reports, scenario, runs=2, key_path=key)
    assert (bundles[0] / "manifest.sig").is_file() and (bundles[0] / "signer.pub").is_file()
    assert verify_evidence(reports) == []

    sig = bundles[1] / "manifest.sig"
    sig.write_bytes(sig.read_bytes().replace(sig.read_bytes()[:4], b"AAAA", 1))
    problems = verify_evidence(reports)
    assert any("bad signature" in p for p in problems), problems


def test_a_signature_by_another_key_than_the_trusted_one_is_detected(
    tmp_path: Path, scenario: Scenario
) -> None:
    reports = tmp_path / "reports"
    bundles = _chain(reports, scenario, runs=1, key_path=_key(tmp_path / "key.pem"))
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "trusted.pub").write_bytes(other)

    assert verify_evidence(bundles[0]) == []
    problems = verify_evidence(bundles[0], public_key=tmp_path / "trusted.pub")
    assert any("bad signature" in p for p in problems)


def test_a_removed_signature_of_a_signed_manifest_is_detected(
    tmp_path: Path, scenario: Scenario
) -> None:
    bundles = _chain(tmp_path / "reports", scenario, runs=1, key_path=_key(tmp_path / "k.pem"))
    (bundles[0] / "manifest.sig").unlink()
    assert any("manifest.sig is missing" in p for p in verify_evidence(bundles[0]))


def test_the_key_comes_from_the_environment(
    tmp_path: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLBOOK_EVIDENCE_KEY", str(_key(tmp_path / "key.pem")))
    bundle = write_evidence(_result(1), scenario, tmp_path / "reports" / "run-1")
    assert (bundle / "manifest.sig").is_file()


def test_an_unreadable_key_is_refused(tmp_path: Path, scenario: Scenario) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not a key\n")
    with pytest.raises(DrillbookError, match="could not be read"):
        write_evidence(_result(1), scenario, tmp_path / "r" / "run-1", key_path=key)


def test_evidence_is_written_once_per_run(tmp_path: Path, scenario: Scenario) -> None:
    write_evidence(_result(1), scenario, tmp_path / "reports" / "run-1")
    with pytest.raises(DrillbookError, match="already exists"):
        write_evidence(_result(1), scenario, tmp_path / "reports" / "run-1")


def test_a_folder_without_evidence_is_a_problem(tmp_path: Path) -> None:
    assert verify_evidence(tmp_path) != []


def test_cli_evidence_verify_exits_0_when_intact_and_1_with_each_problem(
    tmp_path: Path, scenario: Scenario
) -> None:
    from typer.testing import CliRunner

    from drillbook.cli import app

    reports = tmp_path / "reports"
    _chain(reports, scenario)
    ok = CliRunner().invoke(app, ["evidence", "verify", str(reports)])
    assert ok.exit_code == 0, ok.output
    assert "3 bundle(s)" in ok.output

    shutil.rmtree(reports / "run-2")
    bad = CliRunner().invoke(app, ["evidence", "verify", str(reports)])
    assert bad.exit_code == 1
    assert "chain gap" in bad.output
