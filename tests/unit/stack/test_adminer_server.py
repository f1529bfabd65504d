"""The PHP wrapper that opens Adminer on the stack's PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from stack.adminer_server import ADMINER_PHP, parse_version, php_string, wrapper_php
from stack.config import load_settings


def test_php_strings_escape_quotes_and_backslashes() -> None:
    assert php_string("it's a\\b") == "'it\\'s a\\\\b'"


def test_the_wrapper_presets_our_server_user_and_database(tmp_path: Path) -> None:
    s = load_settings(
        {
            "STACK_HOME": str(tmp_path),
            "POSTGRES_PORT": "25432",
            "POSTGRES_USER": "o'neil",
            "POSTGRES_DB": "db",
            "POSTGRES_PASSWORD": "s3cret-pw",
        }
    )

    php = wrapper_php(s)

    assert "const STACK_PG_SERVER = '127.0.0.1:25432';" in php
    assert "const STACK_PG_USER = 'o\\'neil';" in php
    assert "const STACK_PG_DB = 'db';" in php
    assert f"include '{ADMINER_PHP}';" in php
    assert "s3cret-pw" not in php, "the password is typed, never written to disk"


@pytest.mark.skipif(shutil.which("php") is None, reason="php is installed by `make up`")
def test_the_wrapper_is_valid_php(tmp_path: Path) -> None:
    wrapper = tmp_path / "index.php"
    wrapper.write_text(wrapper_php(load_settings({"STACK_HOME": str(tmp_path)})))

    lint = subprocess.run(["php", "-l", str(wrapper)], capture_output=True, text=True, check=False)

    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_version_is_read_from_adminers_own_file() -> None:
    assert parse_version('<?php\n$VERSION = "4.8.1";\n') == "4.8.1"
    assert parse_version("<?php\n") == "?"
