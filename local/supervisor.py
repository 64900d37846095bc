"""``python -m local``: start every local service, print where they are, stop them all on Ctrl-C.

Order: check every port is free (a clear message names the one that is not, and its
variable); synthesize the local assembly if stale; start mosquitto and the moto server; start
one process per stack (:mod:`local.services`); then, in this process, the issuer and the web
client servers. Ready once every port answers. Ctrl-C (SIGINT) or SIGTERM stops everything in
reverse order — servers closed, children stopped by PID (SIGTERM, then SIGKILL) — and the
ports are free again when it returns. If a child dies, everything stops with an error.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, TextIO

from local.assembly import ensure_assembly
from local.aws import sdk_environment
from local.cfn import Template
from local.httpserver import LocalServer
from local.oidc.issuer import Client, Issuer, Pool, seeded_users
from local.oidc.server import issuer_handler
from local.processes import Child, mosquitto_binary, mosquitto_config, port_free, start, wait_for_port
from local.provision import user_pool_names
from local.settings import (
    ASK_AROUND_ME,
    MARS_API_KEY,
    PORTS,
    TELEPRESENCE_ROBOT,
    URL_SHORTENER,
    WEB_CLIENTS,
    Settings,
)
from local.web import is_built, web_handler

log = logging.getLogger("local")

STARTUP_TIMEOUT_SECONDS = float(os.environ.get("LOCAL_STARTUP_TIMEOUT_SECONDS", "120"))
SERVICES = (("shortener", "shortener_api"), ("askaroundme", "askaroundme_api"), ("robot", "robot_api"),
            ("mars", "mars_api"))
STACKS_WITH_USERS = (URL_SHORTENER, ASK_AROUND_ME, TELEPRESENCE_ROBOT)


class StartupError(RuntimeError):
    pass


def issuer_for(settings: Settings) -> Issuer:
    """The local issuer: one pool per stack with users, its app clients from the template."""
    pools: dict[str, Pool] = {}
    users = seeded_users()
    for stack in STACKS_WITH_USERS:
        template = Template.load(settings.assembly, stack)
        clients = template.of_type("AWS::Cognito::UserPoolClient")
        for names in user_pool_names(template, settings.issuer_base).values():
            pool_clients = {}
            for logical_id, client_id in names.client_ids.items():
                props = clients[logical_id]
                pool_clients[client_id] = Client(
                    client_id, frozenset(props.get("CallbackURLs", [])), frozenset(props.get("LogoutURLs", [])),
                    frozenset(props.get("AllowedOAuthScopes", [])), frozenset(props.get("AllowedOAuthFlows", [])))
            pools[names.pool_id] = Pool(names.pool_id, names.issuer, pool_clients, users)
    return Issuer(pools, token_lifetime_seconds=settings.token_lifetime_seconds,
                  refresh_token_lifetime_seconds=settings.refresh_token_lifetime_seconds)


class Supervisor:
    def __init__(self, settings: Settings, *, out: TextIO = sys.stdout) -> None:
        self.settings = settings
        self.out = out
        self.children: list[Child] = []
        self.servers: list[LocalServer] = []
        self.stopping = threading.Event()
        self.workdir = Path(tempfile.mkdtemp(prefix="local-"))

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # -- start ---------------------------------------------------------------------------

    def check_ports(self) -> None:
        taken = [name for name, port in self.settings.ports.items() if not port_free(port)]
        if taken:
            described = ", ".join(f"{self.settings.ports[name]} ({PORTS[name][0]})" for name in taken)
            raise StartupError(f"port(s) in use: {described}. Stop what uses them (another `make local`?) or "
                               "choose others with those variables.")

    def start(self) -> None:
        self.check_ports()
        ensure_assembly(self.settings, log=self.say)
        ports = self.settings.ports
        config = self.workdir / "mosquitto.conf"
        config.write_text(mosquitto_config(ports["mqtt"], ports["mqtt_ws"]))
        self._child("mosquitto", [mosquitto_binary(), "-c", str(config)], {**os.environ}, port=ports["mqtt_ws"])
        environ = {**os.environ, **sdk_environment(self.settings.moto_url)}
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            environ.pop(name, None)
        self._child("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(ports["moto"])],
                    environ, port=ports["moto"], quiet=True)
        for system, _ in SERVICES:
            self._child(system, [sys.executable, "-m", "local.services", system, "--settings",
                                 self.settings.to_json()], environ, port=None)
        # Threads only now: the children above were forked from a process without threads.
        self.servers.append(LocalServer("oidc", ports["oidc"], issuer_handler(issuer_for(self.settings))).start())
        for client in WEB_CLIENTS:
            self.servers.append(LocalServer(f"web-{client.name}", ports[client.port_name],
                                            web_handler(client, self.settings)).start())
        for (_, port_name), child in zip(SERVICES, self.children[2:], strict=True):
            wait_for_port(child, ports[port_name], STARTUP_TIMEOUT_SECONDS, cancel=self.stopping)

    def _child(self, name: str, command: list[str], environ: dict[str, str], *, port: int | None,
               quiet: bool = False) -> None:
        log_file = self.workdir / f"{name}.log" if quiet else None
        child = start(name, command, env=environ, log_file=log_file)
        self.children.append(child)
        if port is not None:
            wait_for_port(child, port, STARTUP_TIMEOUT_SECONDS, cancel=self.stopping)

    def print_urls(self) -> None:
        s = self.settings
        lines = [
            "",
            "Local suite running (Ctrl-C stops everything):",
            f"  Web clients      shortener   {s.url('shortener_web', '/')}" + self._built("shortener"),
            f"                   askaroundme {s.url('askaroundme_web', '/')}" + self._built("askaroundme"),
            f"                   robot       {s.url('robot_web', '/')}" + self._built("robot"),
            f"  Sign-in          {s.url('oidc', '/')}  users alice@example.com, bob@example.com, "
            "password local-password",
            f"  APIs             URL shortener {s.url('shortener_api', '/')}   (short links: "
            f"{s.url('shortener_api', '/<id>')})",
            f"                   Ask Around Me {s.url('askaroundme_api')}",
            f"                   robot drive   {s.url('robot_api', '/publish')}",
            f"                   Mars          {s.url('mars_api', '/mars')}   (x-api-key: {MARS_API_KEY})",
            f"  MQTT broker      ws://localhost:{s.ports['mqtt_ws']}/mqtt   mqtt://localhost:{s.ports['mqtt']}",
            f"  AWS (moto)       {s.moto_url}",
            "",
        ]
        self.say("\n".join(lines))

    @staticmethod
    def _built(name: str) -> str:
        client = next(c for c in WEB_CLIENTS if c.name == name)
        return "" if is_built(client) else "   (not built: placeholder page; run `make web`)"

    # -- run and stop --------------------------------------------------------------------

    def wait(self) -> int:
        """Until a signal, or a child's death (then 1)."""
        while not self.stopping.wait(0.5):
            dead = next((child for child in self.children if not child.alive()), None)
            if dead is not None:
                tail = dead.log_tail()
                self.say(f"{dead.name} exited unexpectedly (status {dead.process.returncode}); stopping."
                         + (f"\n{tail}" if tail else ""))
                return 1
        return 0

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


def run(settings: Settings, *, out: TextIO = sys.stdout, on_ready: Callable[[], None] | None = None) -> int:
    supervisor = Supervisor(settings, out=out)
    previous = {signum: signal.signal(signum, lambda *_: supervisor.stopping.set())
                for signum in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        supervisor.start()
        if supervisor.stopping.is_set():
            return 0
        supervisor.print_urls()
        supervisor.say(f"Ready in {time.monotonic() - started:.1f} s.")
        if on_ready:
            on_ready()
        return supervisor.wait()
    except StartupError as error:
        supervisor.say(f"Cannot start: {error}")
        return 2
    except RuntimeError as error:
        supervisor.say(f"Startup failed: {error}")
        return 1
    finally:
        supervisor.say("Stopping ...")
        supervisor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        supervisor.say("Stopped.")
