"""A private, throwaway PostgreSQL cluster the database-fault tests may stop, crash and fill.

Why its own cluster: the machine's PostgreSQL is shared by every test (and every helper on
this machine); restarting it, making it read-only or filling its disk would break them all.
Here `initdb` makes a cluster under a temporary directory, `pg_ctl` serves it on a free
loopback port, and the tests restart it (fast: clients are told and disconnected;
immediate: the server dies as in a crash, and recovers from its WAL on the next start).

initdb refuses to run as root, and so does the server: as root (the CI machines) every
command runs as the `postgres` OS user (`runuser`), on a directory that user owns; as any
other user it runs as that user. `fsync=off` only spares the shared disk: a crash of the
server (not of the machine) loses nothing with it, since the kernel keeps the writes.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from tests.sandbox_process import free_port

VERSIONS_DIR = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's binaries (`SMD_PG_BIN` overrides), or None."""
    override = os.environ.get("SMD_PG_BIN")
    candidates = [Path(override)] if override else []
    if VERSIONS_DIR.is_dir():
        versions = [p for p in VERSIONS_DIR.iterdir() if p.name.isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: -int(p.name))]
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    return None


def _service_user() -> pwd.struct_passwd | None:
    """Who runs the server: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return None


def unusable_reason() -> str | None:
    """Why no private cluster can run here, or None when one can."""
    if find_bin_dir() is None:
        return f"PostgreSQL server binaries (initdb, pg_ctl) not found under {VERSIONS_DIR}"
    if os.geteuid() == 0 and _service_user() is None:
        return f"running as root and no {SERVICE_USER!r} OS user to run initdb as"
    return None


class PgCluster:
    """One cluster: `start()`, `stop(mode)`, `restart(mode)`, `read_only(on)`, `destroy()`."""

    def __init__(self, base: Path | None = None) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError(unusable_reason() or "no PostgreSQL binaries")
        self.bin = bin_dir
        self.user = _service_user()
        # Not under pytest's tmp_path: its 0700 parents would shut the postgres user out.
        self.base = base or Path(tempfile.mkdtemp(prefix="smd-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = free_port()
        self._give(self.base)
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C.UTF-8")  # fmt: skip
        (self.data / "postgresql.auto.conf").write_text(
            f"port = {self.port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.base}'\n"
            "fsync = off\n"
            "max_connections = 60\n"
            "shared_buffers = '32MB'\n"
            "log_min_messages = warning\n"
        )
        self._give(self.data / "postgresql.auto.conf")

    # --- life cycle --------------------------------------------------------------------------
    def start(self) -> float:
        """Start and wait until it accepts connections; returns how long that took."""
        began = time.monotonic()
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")
        return time.monotonic() - began

    def stop(self, mode: str = "fast") -> None:
        """`fast`: sessions are ended and told why; `immediate`: the server dies (a crash)."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast", *, down_s: float = 0.0) -> float:
        """Stop in `mode`, stay down `down_s` (a failover takes a while), start again;
        returns the seconds the server was down."""
        began = time.monotonic()
        self.stop(mode)
        time.sleep(down_s)
        self.start()
        return time.monotonic() - began

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def destroy(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    # --- databases ---------------------------------------------------------------------------
    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> Engine:
        """An AUTOCOMMIT engine on the `postgres` database, for DDL and server settings."""
        return create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
            isolation_level="AUTOCOMMIT",
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5},
        )

    def drop_database(self, name: str) -> None:
        engine = self.admin()
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            engine.dispose()

    def create_database(self, name: str, *, tablespace: str | None = None) -> str:
        """A new, empty database (dropped first if it exists); returns its URL."""
        where = f' TABLESPACE "{tablespace}"' if tablespace else ""
        engine = self.admin()
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"{where}'))
        finally:
            engine.dispose()
        return self.url(name)

    def read_only(self, on: bool) -> None:
        """Every new transaction read-only (as an operator makes a database during maintenance):
        `ALTER SYSTEM` + reload, so sessions already open take it from their next transaction."""
        engine = self.admin()
        try:
            with engine.connect() as conn:
                value = "on" if on else "off"
                conn.execute(text(f"ALTER SYSTEM SET default_transaction_read_only = {value}"))
                conn.execute(text("SELECT pg_reload_conf()"))
        finally:
            engine.dispose()

    @contextlib.contextmanager
    def small_volume(self, name: str, size_mb: int) -> Iterator[Path]:
        """A tmpfs of `size_mb` MiB holding tablespace `name`: a data volume that can fill up
        (ENOSPC for real, as a full disk) while the WAL stays on the roomy disk."""
        mount_point = self.base / f"volume-{name}"
        mount_point.mkdir()
        uid, gid = (self.user.pw_uid, self.user.pw_gid) if self.user else (os.getuid(), os.getgid())
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,uid={uid},gid={gid},mode=0700",
             "tmpfs", str(mount_point)],
            check=True, capture_output=True,
        )  # fmt: skip
        engine = self.admin()
        try:
            with engine.connect() as conn:
                conn.execute(text(f"CREATE TABLESPACE \"{name}\" LOCATION '{mount_point}'"))
            yield mount_point
        finally:
            with contextlib.suppress(Exception), engine.connect() as conn:
                conn.execute(text(f'DROP TABLESPACE IF EXISTS "{name}"'))
            engine.dispose()
            subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)

    # --- plumbing ----------------------------------------------------------------------------
    def _give(self, path: Path) -> None:
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def _run(self, tool: str, *args: object, check: bool = True) -> subprocess.CompletedProcess:
        argv = [str(self.bin / tool), *map(str, args)]
        if self.user is not None:
            argv = ["runuser", "-u", self.user.pw_name, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=self.base)
        if check and done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(map(str, args))} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}\n{tail}"
            )
        return done


def can_mount() -> str | None:
    """Why a small tmpfs cannot be mounted here, or None when it can (root with CAP_SYS_ADMIN)."""
    if os.geteuid() != 0:
        return "a small filesystem to fill needs root (mount -t tmpfs)"
    probe = Path(tempfile.mkdtemp(prefix="smd-mount-probe-"))
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True
        )
        if done.returncode != 0:
            return f"mount -t tmpfs refused: {done.stderr.decode(errors='replace').strip()}"
        subprocess.run(["umount", str(probe)], check=False)
        return None
    finally:
        probe.rmdir()


def fill(volume: Path, leave_bytes: int = 0) -> Path:
    """Take the free space of `volume` (a filler file, ours), leaving `leave_bytes`."""
    filler = volume / "filler"
    stat = os.statvfs(volume)
    free = stat.f_bavail * stat.f_frsize - leave_bytes
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb") as out:
        while free > 0:
            try:
                free -= out.write(chunk[: min(len(chunk), free)])
                out.flush()
            except OSError:
                break
    return filler
