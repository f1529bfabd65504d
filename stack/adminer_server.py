"""Adminer: Debian's package served by PHP's built-in web server, opened on our PostgreSQL.

A small PHP file generated under STACK_HOME wraps Debian's Adminer: a visit to
http://127.0.0.1:ADMINER_PORT/ lands on the login form of the stack's
PostgreSQL server with the application's user and database filled in; only the
password is asked (Adminer refuses passwordless logins). PHP runs as the system
user `streaming-adminer`, never as root.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from stack.config import Settings
from stack.messages import StackError, say
from stack.prerequisites import apt_install, ensure_system_user
from stack.processes import (
    PidFile,
    http_get,
    make_dir,
    refuse_taken_ports,
    spawn,
    stop_processes,
    wait_healthy,
)
from stack.service import Service

ADMINER_USER = "streaming-adminer"
ADMINER_PHP = Path("/usr/share/adminer/adminer.php")
ADMINER_VERSION_FILE = Path("/usr/share/adminer/adminer/include/version.inc.php")
#: php-cgi satisfies the adminer package's web-server dependency; without it apt
#: picks libapache2-mod-php and brings Apache along.
ADMINER_PACKAGES = ("adminer", "php-cli", "php-cgi", "php-pgsql")
ADMINER_START_TIMEOUT = 30.0
PGSQL_CHECK = 'exit(extension_loaded("pgsql") || extension_loaded("pdo_pgsql") ? 0 : 1);'


def php_string(value: str) -> str:
    """A single-quoted PHP string literal holding `value`."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def wrapper_php(s: Settings) -> str:
    """index.php: Adminer preset to the stack's PostgreSQL server, user and database."""
    return f"""<?php
// Written by `python3 -m stack` on every `up`; edits are overwritten.
// Debian's Adminer, opened on the stack's PostgreSQL server (see stack/adminer_server.py).

const STACK_PG_SERVER = {php_string(f"127.0.0.1:{s.pg_port}")};
const STACK_PG_USER = {php_string(s.pg_user)};
const STACK_PG_DB = {php_string(s.pg_db)};

// A bare visit goes to the login form of our server with the PostgreSQL driver.
if ($_SERVER['REQUEST_METHOD'] === 'GET' && ($_SERVER['QUERY_STRING'] ?? '') === '') {{
    header('Location: ?pgsql=' . urlencode(STACK_PG_SERVER));
    exit;
}}

function adminer_object() {{
    class StackAdminer extends Adminer {{
        // The user and database are filled in on the form rather than put in the URL:
        // Adminer counts a URL naming a user without a stored password as a failed login.
        function loginFormField($name, $heading, $value) {{
            $presets = array('username' => STACK_PG_USER, 'db' => STACK_PG_DB);
            if (isset($presets[$name])) {{
                $value = str_replace('value=""', 'value="' . h($presets[$name]) . '"', $value);
            }}
            return $heading . $value;
        }}

        // No version check against adminer.org: a development tool on loopback
        // must not call out (as Debian's version-noverify plugin does).
        function head() {{
            echo script("verifyVersion = function () {{}};");
            return true;
        }}
    }}
    return new StackAdminer;
}}

include {php_string(str(ADMINER_PHP))};
"""


def parse_version(text: str) -> str:
    """Adminer's version from its version.inc.php (`$VERSION = "4.8.1";`)."""
    match = re.search(r'\$VERSION\s*=\s*"([^"]+)"', text)
    return match.group(1) if match else "?"


def installed_version() -> str:
    """The installed Adminer's version, "?" when it is not installed."""
    if not ADMINER_VERSION_FILE.exists():
        return "?"
    return parse_version(ADMINER_VERSION_FILE.read_text())


def php_has_pgsql(php: str) -> bool:
    """True when the PHP interpreter can talk to PostgreSQL."""
    done = subprocess.run([php, "-r", PGSQL_CHECK], check=False, capture_output=True)
    return done.returncode == 0


class AdminerServer(Service):
    """Adminer on 127.0.0.1:ADMINER_PORT, for looking into the stack's PostgreSQL."""

    name = "adminer"

    @property
    def docroot(self) -> Path:
        """The generated index.php; its path also identifies our PHP server."""
        return self.settings.adminer / "www"

    @property
    def pidfile(self) -> PidFile:
        """Pid of the PHP server, recognised by the document root on its command line."""
        return PidFile(self.settings.adminer / "adminer.pid", str(self.docroot))

    @property
    def log(self) -> Path:
        """PHP's access and error log."""
        return self.settings.logs / "adminer.log"

    def port(self) -> int:
        """The HTTP port."""
        return self.settings.adminer_port

    def url(self) -> str:
        """Where a browser opens it."""
        return f"http://127.0.0.1:{self.port()}/"

    def install(self) -> str:
        """Install Adminer and PHP from Debian's packages when missing; return `php`'s path."""
        php = shutil.which("php")
        if php is not None and ADMINER_PHP.exists() and php_has_pgsql(php):
            return php
        say("installing Adminer and PHP from Debian's packages (apt-get)")
        log = self.settings.logs / "apt.log"
        apt_install(ADMINER_PACKAGES, log, manual="Adminer and PHP with pgsql")
        php = shutil.which("php")
        if php is None or not ADMINER_PHP.exists():
            raise StackError(f"apt-get installed no Adminer or PHP; see {log}")
        return php

    def provision(self) -> None:
        """Packages, the service user, the wrapper and PHP's private directories."""
        self.install()
        root = self.settings.adminer
        ensure_system_user(ADMINER_USER, root)
        make_dir(root)
        make_dir(self.docroot)
        (self.docroot / "index.php").write_text(wrapper_php(self.settings))
        for sub in ("sessions", "tmp"):
            make_dir(root / sub, owner=ADMINER_USER, mode=0o700)

    def php_cmd(self) -> list[str]:
        """PHP's built-in server; sessions and Adminer's temporary files stay in our home."""
        root = self.settings.adminer
        php = shutil.which("php") or "php"
        return [
            php,
            "-S",
            f"127.0.0.1:{self.port()}",
            "-t",
            str(self.docroot),
            "-d",
            f"session.save_path={root / 'sessions'}",
            # Debian leaves session clean-up to a cron job that does not know this directory.
            "-d",
            "session.gc_probability=1",
            "-d",
            f"upload_tmp_dir={root / 'tmp'}",
            "-d",
            f"sys_temp_dir={root / 'tmp'}",
            # Warnings go to the log, not into pages (they would break redirects).
            "-d",
            "display_errors=0",
            "-d",
            "log_errors=1",
        ]

    def start(self) -> None:
        """Start PHP's server as streaming-adminer unless it runs."""
        if self.running():
            return
        refuse_taken_ports(self.name, [(self.port(), "ADMINER_PORT")])
        pid = spawn(self.php_cmd(), self.log, cwd=self.settings.adminer, user=ADMINER_USER)
        self.pidfile.record(pid)
        say(f"started Adminer (pid {pid})")

    def wait(self) -> None:
        """Wait until the login form is served."""
        wait_healthy(self.name, self.healthy, self.running, ADMINER_START_TIMEOUT, self.log)

    def stop(self) -> bool:
        """Stop PHP's server."""
        return stop_processes(self.name, [(self.pidfile, None)])

    def running(self) -> bool:
        """True when our PHP server is alive."""
        return self.pidfile.alive()

    def healthy(self) -> bool:
        """The login form is served, with the PostgreSQL driver preselected."""
        body = http_get(self.url())
        return body is not None and b'<option value="pgsql" selected' in body

    def pid(self) -> int | None:
        """The PHP server's pid while it runs."""
        return self.pidfile.live_pid()

    def describe(self) -> str:
        """Where Adminer listens and what it opens."""
        s = self.settings
        return (
            f"{self.url()} (PostgreSQL 127.0.0.1:{s.pg_port}, user {s.pg_user}, "
            f"database {s.pg_db}), Adminer {installed_version()}, log {self.log}"
        )
