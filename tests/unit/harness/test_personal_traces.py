"""harness.personal_traces: the forms a person's value is looked for in, and the file scan."""

from __future__ import annotations

import base64
from pathlib import Path

from harness.personal_traces import forms, in_files

CPF = "529.982.247-25"


def test_a_cpf_is_looked_for_as_written_as_digits_and_in_base64() -> None:
    found = forms([CPF])
    assert CPF.encode() in found
    assert b"52998224725" in found
    assert base64.b64encode(b"52998224725").rstrip(b"=") in found
    assert base64.urlsafe_b64encode(CPF.encode()).rstrip(b"=") in found


def test_a_name_is_looked_for_in_any_case(tmp_path: Path) -> None:
    (tmp_path / "log").write_bytes(b"... ANA MARIA BRAGA ...")
    assert in_files(tmp_path, forms(["Ana Maria Braga"])) == [f"file: {tmp_path / 'log'}"]


def test_files_without_the_value_are_not_reported(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"A. M. B. ***.***.***-25 a***@example.com")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"pii:v1:AAAA")
    assert in_files(tmp_path, forms(["Ana Maria Braga", CPF, "ana.maria@example.com"])) == []
