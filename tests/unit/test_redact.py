"""Redactor: secrets never reach a report."""

from __future__ import annotations

import threading

import pytest

from drillbook.grade import Code, Finding, Status
from drillbook.journal import StepRecord
from drillbook.redact import MASK, Redactor

SECRET = "s3cr3t-Drill-Pw"


def test_a_known_secret_is_masked_wherever_it_occurs() -> None:
    r = Redactor([SECRET])
    assert r.text(f"connecting with {SECRET} and again {SECRET}.") == (
        "connecting with *** and again ***."
    )


def test_a_url_encoded_secret_is_masked_too() -> None:
    r = Redactor(["p@ss word/1"])
    assert r.text("dsn=postgresql://u:p%40ss%20word%2F1@h/db") == "dsn=postgresql://u:***@h/db"


def test_secrets_shorter_than_four_characters_are_ignored() -> None:
    r = Redactor(["ab", ""])
    assert r.secrets == ()
    assert r.text("table abc") == "table abc"


def test_a_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    r = Redactor(["abcd", "abcdefgh"])
    assert r.text("x abcdefgh y") == "x *** y"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://drill:pw123456@127.0.0.1:5432/drill",
         "postgresql://drill:***@127.0.0.1:5432/drill"),
        ("PGPASSWORD=hunter22 psql -h x", "PGPASSWORD=*** psql -h x"),
        ("export AWS_SECRET_ACCESS_KEY=abcDEF123", "export AWS_SECRET_ACCESS_KEY=***"),
        ("OPENAI_API_KEY: sk-live-123456", "OPENAI_API_KEY: ***"),
        ('{"password": "x1y2z3"}', '{"password": "***"}'),
        ("host=h password=qwerty user=u", "host=h password=*** user=u"),
        ("Authorization: Bearer eyJhbGciOi.abc", "Authorization: Bearer ***"),
        ("GITHUB_TOKEN=ghp_abcdef", "GITHUB_TOKEN=***"),
    ],
)
def test_secret_looking_values_are_masked_without_being_told(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


def test_ordinary_text_is_left_alone() -> None:
    text = "restored 1000 rows into configs in 2.3 s; http://127.0.0.1:8080/health ok"
    assert Redactor([SECRET]).text(text) == text


def test_models_are_masked_recursively_and_keep_their_type() -> None:
    record = StepRecord(
        phase="recover", index=0, id="restore", kind="run", description="restore",
        started=0.0, ended=1.0, ok=False, output_tail=("ok", f"PGPASSWORD={SECRET}", SECRET),
        error=f"psql: password {SECRET} rejected",
    )
    masked = Redactor([SECRET]).redact(record)

    assert isinstance(masked, StepRecord)
    assert masked.output_tail == ("ok", "PGPASSWORD=***", MASK)
    assert masked.error == "psql: password *** rejected"
    assert SECRET not in masked.model_dump_json()


def test_fields_and_keys_named_like_secrets_are_masked_whole() -> None:
    masked = Redactor().redact({"db.password": "plain", "user": "drill",
                                "nested": [{"secret_key": "abc"}]})
    assert masked == {"db.password": MASK, "user": "drill", "nested": [{"secret_key": MASK}]}


def test_string_enums_survive_redaction() -> None:
    finding = Finding(criterion="baseline", status=Status.PASS, code=Code.OK, message="fine")
    masked = Redactor([SECRET]).redact(finding)
    assert masked is finding
    assert masked.status is Status.PASS


def test_secrets_added_later_are_masked_from_then_on() -> None:
    r = Redactor()
    assert r.text(SECRET) == SECRET
    r.add(SECRET)
    assert r.text(SECRET) == MASK


def test_secrets_can_be_added_from_several_threads() -> None:
    r = Redactor()
    threads = [threading.Thread(target=r.add, args=(f"secret-{i:04d}",)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(r.secrets) >= 50


def test_llm_token_counts_are_not_mistaken_for_tokens() -> None:
    text = "max_tokens: 4096 prompt_tokens=12 api_token=abc123"
    assert Redactor().text(text) == "max_tokens: 4096 prompt_tokens=12 api_token=***"
    assert Redactor().redact({"max_tokens": "4096"}) == {"max_tokens": "4096"}
