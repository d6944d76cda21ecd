"""The command line, part five: the long-running commands (`watch`, `serve`) and the
daily digest (`notify`); click only, as in ``cli.py``."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from .cli import State, echo, main
from .errors import VaultnetzError

# --------------------------------------------------------------------------- watch / serve


def _local_now() -> datetime:
    """The local wall clock, for the watcher's midnight rollover (honours --today)."""
    return datetime.now().astimezone()


def _clock(state: State) -> Callable[[], datetime]:
    if state.today_pinned:  # --today: that date, with the real time of day; no rollover
        return lambda: datetime.combine(state.today, _local_now().timetz())
    return _local_now


def _stop_on_sigterm() -> None:
    """systemd and launchd stop a service with SIGTERM: stop as on Ctrl-C, cleanly (the
    watcher stops, no write is cut off half-way), at once."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _setup_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Keep the feed in FILE (written atomically, only when it changes).")
@click.pass_obj
def watch(state: State, output: Path | None) -> None:
    """Keep the feed file (and the agenda note) current as the vault changes.

    Changes are picked up within a second; a burst of changes (a git checkout)
    gives one rebuild; the date rolling over at midnight moves reminders.
    Stop with Ctrl-C.

    \b
    Example:
      vaultnetz watch -o ~/Public/vaultnetz.ics
    """
    from .watch import FeedService, Watcher

    _setup_logging()
    _stop_on_sigterm()
    config = state.vault().config  # the config must be valid to start
    service = FeedService(state.root, _clock(state), output=output, freeze_gc=True,
                          jobs=state.jobs)
    service.action_base = action_base(config.public_url)  # where `serve` will answer
    snapshot = service.rebuild()
    echo(f"watching {state.root} ({len(snapshot.vault.contacts)} contacts, "
               f"{snapshot.feed.count(b'BEGIN:VEVENT')} events); Ctrl-C stops", err=True)
    watcher = Watcher(service, time.monotonic)
    watcher.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (use 0.0.0.0 only behind a firewall or proxy).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", envvar="VAULTNETZ_TOKEN", metavar="T",
              help="The secret path part (default: $VAULTNETZ_TOKEN, else one generated once "
                   "and kept in the user config folder).")
@click.option("--behind-proxy", is_flag=True,
              help="Trust X-Forwarded-Proto/-Host from a reverse proxy on this machine.")
@click.pass_obj
def serve(state: State, host: str, port: int, token: str | None, behind_proxy: bool) -> None:
    """Serve the feed over HTTP behind a secret URL, and keep it current.

    \b
    Example:
      vaultnetz serve --port 8765
    """
    from .notify import DailyDigest, SentLog
    from .server import FeedApp, check_token, load_or_create_token
    from .server import serve as run_server
    from .watch import FeedService, Watcher

    _setup_logging()
    _stop_on_sigterm()
    token = check_token(token) if token else load_or_create_token(user_config_dir())
    config = state.vault().config
    service = FeedService(state.root, _clock(state), freeze_gc=True, jobs=state.jobs)
    service.rebuild()
    watcher = Watcher(service, time.monotonic)
    watcher.start()
    daily = DailyDigest(service, config.notify.get("urls", ()), config.notify_at,
                        SentLog(user_config_dir(), state.root),
                        lambda: service.action_base)

    def ready(bound_host: str, bound_port: int) -> None:
        # The token once, in the page's address (under systemd this goes to the journal):
        # the page shows the feed's and the subscribe addresses.
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        if bound_host in ("0.0.0.0", "::"):  # reachable by this machine's name on the LAN
            import socket

            shown = socket.gethostname()
        own = f"http://{shown}:{bound_port}"
        # Feed events link each check-in's action page, where the phone reaches it.
        service.action_base = f"{config.public_url or own}/{token}/c/"
        service.rebuild()
        daily.start()
        echo(f"serving {state.root}\n  page: {own}/{token}/ "
             "(feed and subscribe links there; keep the address secret)", err=True)

    try:
        run_server(FeedApp(service, token, timer=time.monotonic, behind_proxy=behind_proxy),
                   host, port, on_ready=ready, behind_proxy=behind_proxy)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise VaultnetzError(f"cannot listen on {host}:{port}: {exc.strerror}",
                             "pick another --port, or stop the other server") from None
    finally:
        daily.stop()
        watcher.stop()


def served_token() -> str:
    """The token `serve` uses: $VAULTNETZ_TOKEN, else the one kept in the config folder."""
    from .server import check_token, load_or_create_token

    token = os.environ.get("VAULTNETZ_TOKEN")
    return check_token(token) if token else load_or_create_token(user_config_dir())


def action_base(public_url: str) -> str:
    """Where the action pages are for links made outside `serve` (ics, notify)."""
    return f"{public_url}/{served_token()}/c/" if public_url else ""


@main.command()
@click.option("--dry-run", is_flag=True, help="Print the digest; send nothing.")
@click.option("--always", is_flag=True, help="Send even when nothing is due today.")
@click.option("--again", is_flag=True, help="Send even when today's digest went out already.")
@click.pass_obj
def notify(state: State, dry_run: bool, always: bool, again: bool) -> None:
    """Send today's check-ins and upcoming trips, each with its action link, through the
    notification URLs of [notify] urls (mail, ntfy, Telegram, Matrix, Gotify, …).

    Once a day: a second run on the same day (a cron job, `serve` at notify_at) sends
    nothing, unless --again. Links need public_url.

    \b
    Example:
      vaultnetz notify --dry-run
    """
    from .notify import SentLog, digest, send

    vault = state.vault()
    config = vault.config
    sent_log = SentLog(user_config_dir(), state.root)
    if not (dry_run or again) and sent_log.last() == state.today:
        echo(f"Today's digest ({state.today.isoformat()}) was sent already; nothing sent "
             "(--again sends it once more).")
        return
    message = digest(vault, state.schedule(), action_base(config.public_url))
    urls = config.notify.get("urls", ())
    if not (message.check_ins or message.trips) and not always:
        echo("Nothing due today; nothing sent (--always sends the digest anyway).")
        return
    if dry_run:
        echo(message.title)
        echo(message.body)
        echo(f"dry run: would send to {len(urls)} service{'s' if len(urls) != 1 else ''}; "
             "nothing was sent", err=True)
        return
    if not urls:
        raise VaultnetzError("there is nowhere to send the digest: no [notify] urls",
                             'add [notify] urls = ["mailtos://…", "ntfy://…"] to vaultnetz.toml')
    sent, problems = send(urls, message)
    for problem in problems:
        echo(f"warning: {problem}", err=True)
    if not sent:
        raise VaultnetzError("the digest was not sent to any service",
                             "check the URLs in [notify] urls and the network")
    sent_log.record(state.today)
    echo(f"sent the digest to {sent} of {len(urls)} services")


def user_config_dir() -> Path:
    """$VAULTNETZ_CONFIG_DIR, else the platform's user config folder (never the vault)."""
    if os.environ.get("VAULTNETZ_CONFIG_DIR"):
        return Path(os.environ["VAULTNETZ_CONFIG_DIR"])
    import platformdirs

    return Path(platformdirs.user_config_dir("vaultnetz", appauthor=False))
