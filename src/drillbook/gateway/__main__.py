"""`python -m drillbook.gateway`: serve, check a config, or migrate the database.

    python -m drillbook.gateway --config config.yaml --port 4000 [--release v2]
    python -m drillbook.gateway check --config config.yaml
    python -m drillbook.gateway migrate up|down|status [--to N] --database-url URL [--source DIR]

Exit codes: 0 ok, 1 runtime or migration failure, 2 invalid config or arguments,
3 the port cannot be bound, 4 startup migrations failed.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from fastapi import FastAPI
    from uvicorn import Config

from drillbook.gateway.config import ConfigError, load_config
from drillbook.gateway.faults import FaultSettings
from drillbook.gateway.migrations import MigrationError, Migrator, default_source, discover
from drillbook.gateway.releases import RELEASE_ENV, UnknownReleaseError
from drillbook.gateway.routes_drill import TOKEN_ENV
from drillbook.gateway.runtime import Gateway, GatewayOptions, read_env_file

FAULTS_ENV = "DRILLBOOK_DRILL_FAULTS"
MIGRATIONS_ENV = "DRILLBOOK_GATEWAY_MIGRATIONS"
_ARGV_ENV = "DRILLBOOK_GATEWAY__ARGV"
EXIT_RUNTIME, EXIT_CONFIG, EXIT_PORT, EXIT_MIGRATION = 1, 2, 3, 4
log = logging.getLogger("drillbook.gateway")


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _sources(given: Sequence[str] | None) -> tuple[Path, ...]:
    if given:
        return tuple(Path(s) for s in given)
    from_env = _env(MIGRATIONS_ENV)
    if from_env:
        return tuple(Path(s) for s in from_env.split(os.pathsep) if s)
    return (default_source(),)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m drillbook.gateway",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the gateway (the default)")
    for target in (p, serve):
        _serve_args(target)
    check = sub.add_parser("check", help="validate a config file and exit")
    check.add_argument("--config", default=_env("DRILLBOOK_GATEWAY_CONFIG", "CONFIG_FILE_PATH"))
    check.add_argument("--env-file", default=_env("DRILLBOOK_GATEWAY_ENV_FILE"))
    mig = sub.add_parser("migrate", help="apply, revert or list schema migrations")
    mig.add_argument("action", choices=("up", "down", "status"))
    mig.add_argument("--to", type=int, default=None, help="target version")
    mig.add_argument("--database-url", default=_env("DATABASE_URL"))
    mig.add_argument(
        "--source",
        action="append",
        help="migrations directory (repeatable; later ones override the same version)",
    )
    return p


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=_env("DRILLBOOK_GATEWAY_CONFIG", "CONFIG_FILE_PATH"))
    p.add_argument("--port", type=int, default=int(_env("DRILLBOOK_GATEWAY_PORT", "PORT") or 4000))
    p.add_argument("--host", default=_env("DRILLBOOK_GATEWAY_HOST") or "127.0.0.1")
    p.add_argument("--release", default=_env(RELEASE_ENV) or "v1")
    p.add_argument(
        "--database-url",
        default=None,
        help="default: general_settings.database_url or DATABASE_URL",
    )
    p.add_argument("--env-file", default=_env("DRILLBOOK_GATEWAY_ENV_FILE"))
    p.add_argument("--no-migrate", action="store_true", help="do not migrate at startup")
    p.add_argument("--migrations", action="append", help="migrations directory (repeatable)")
    p.add_argument("--workers", type=int, default=int(_env("DRILLBOOK_GATEWAY_WORKERS") or 1))
    p.add_argument("--log-level", default=_env("DRILLBOOK_GATEWAY_LOG_LEVEL") or "info")
    p.add_argument("--access-log", action="store_true")


def _fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def options_from(args: argparse.Namespace) -> GatewayOptions:
    faults = None
    raw = _env(FAULTS_ENV)
    if raw:
        faults = FaultSettings.model_validate(json.loads(raw))
    return GatewayOptions(
        config_path=Path(args.config),
        release=args.release,
        database_url=args.database_url,
        drill_token=_env(TOKEN_ENV),
        migrate=not args.no_migrate,
        migration_sources=_sources(args.migrations),
        env_file=Path(args.env_file) if args.env_file else None,
        startup_faults=faults,
    )


def serve(args: argparse.Namespace) -> int:
    if not args.config:
        return _fail(EXIT_CONFIG, "no config: pass --config PATH (or set DRILLBOOK_GATEWAY_CONFIG)")
    try:
        options = options_from(args)
        gateway = Gateway(options)
    except ConfigError as exc:
        return _fail(EXIT_CONFIG, str(exc))
    except UnknownReleaseError as exc:
        return _fail(EXIT_CONFIG, f"--release: {exc}")
    except (ValueError, ValidationError) as exc:
        return _fail(EXIT_CONFIG, f"{FAULTS_ENV}: {exc}")
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _fail(
                EXIT_PORT,
                f"port {args.port} on {args.host} is already in use; "
                "stop the other process or pass another --port",
            )
        return _fail(EXIT_PORT, f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
    if gateway.store.kind == "postgres" and gateway.store.ping() and gateway.migration_error:
        sock.close()
        return _fail(EXIT_MIGRATION, f"startup migrations failed: {gateway.migration_error}")
    return _run(gateway, sock, args)


def _uvicorn_config(app: object, args: argparse.Namespace, workers: int = 1) -> Config:
    from uvicorn import Config

    return Config(
        app,  # type: ignore[arg-type]
        factory=isinstance(app, str),
        workers=workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level=args.log_level,
        access_log=args.access_log,
        timeout_graceful_shutdown=5,
    )


def _run(gateway: Gateway, sock: socket.socket, args: argparse.Namespace) -> int:
    from uvicorn import Server

    from drillbook.gateway.app import create_app

    if args.workers > 1:
        # Each worker builds its own gateway from the same arguments (spawned processes).
        from uvicorn.supervisors import Multiprocess

        log.warning("--workers %d: drill faults and stats are per worker", args.workers)
        os.environ[_ARGV_ENV] = json.dumps(args.argv)
        gateway.close()
        factory = "drillbook.gateway.__main__:app_from_env"
        Multiprocess(_uvicorn_config(factory, args, args.workers), sockets=[sock]).run()
        return 0
    server = Server(_uvicorn_config(create_app(gateway), args))
    server.run(sockets=[sock])
    return 0 if server.started else EXIT_RUNTIME


def app_from_env() -> FastAPI:
    """uvicorn factory for --workers > 1: a gateway from the parent's arguments."""
    from drillbook.gateway.app import create_app

    args = _parser().parse_args(json.loads(os.environ[_ARGV_ENV]))
    _logging(args.log_level)
    return create_app(Gateway(options_from(args)))


def check(args: argparse.Namespace) -> int:
    if not args.config:
        return _fail(EXIT_CONFIG, "no config: pass --config PATH")
    try:
        env = dict(os.environ)
        if args.env_file:
            env.update(read_env_file(Path(args.env_file)))
        loaded = load_config(Path(args.config), env)
    except ConfigError as exc:
        return _fail(EXIT_CONFIG, str(exc))
    config = loaded.config
    print(
        f"config ok: {args.config}: {len(config.model_list)} deployments, "
        f"{len(config.model_names())} models, providers {', '.join(config.providers())}, "
        f"sha256 {loaded.short_hash}"
    )
    return 0


def migrate(args: argparse.Namespace) -> int:
    if not args.database_url:
        return _fail(EXIT_CONFIG, "no database: pass --database-url URL (or set DATABASE_URL)")
    try:
        migrator = Migrator(args.database_url, discover(_sources(args.source)))
        if args.action == "up":
            done = migrator.up(to=args.to)
            print("applied: " + (", ".join(map(str, done)) or "nothing, up to date"))
        elif args.action == "down":
            done = migrator.down(to=args.to)
            print("reverted: " + (", ".join(map(str, done)) or "nothing"))
        else:
            _status(migrator)
    except MigrationError as exc:
        return _fail(EXIT_RUNTIME, str(exc))
    return 0


def _status(migrator: Migrator) -> None:
    applied = {a.version: a for a in migrator.applied()}
    for m in migrator.migrations:
        row = applied.pop(m.version, None)
        if row is None:
            state = "pending"
        elif not row.success:
            state = "DIRTY (partially applied)"
        else:
            state = "installed" if row.checksum == m.checksum else "installed (CHECKSUM MISMATCH)"
        print(f"{m.version:>6}  {m.description:<32} {state}")
    for row in applied.values():
        print(f"{row.version:>6}  {row.description:<32} installed (MISSING from sources)")


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    _logging(getattr(args, "log_level", "info"))
    if args.command == "check":
        return check(args)
    if args.command == "migrate":
        return migrate(args)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
