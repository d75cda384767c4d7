"""``deskmate-agent``: enroll this machine, run the agent, show the inventory."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from endpoint_agent import __version__
from endpoint_agent.errors import AgentError, FatalConnectionError
from endpoint_agent.i18n import texts

EXIT_FATAL = 3  # the server refused this device for good (revoked, unknown)


def _state(args: argparse.Namespace) -> Path:
    from endpoint_agent.state import default_state_dir

    return Path(args.state_dir) if args.state_dir else default_state_dir()


def cmd_enroll(args: argparse.Namespace) -> int:
    from endpoint_agent.enroll import enroll
    from endpoint_agent.state import AgentState

    state = AgentState(_state(args))
    if state.enrollment_file.exists() and not args.force:
        print(f"deskmate-agent: already enrolled ({state.enrollment_file}); "
              "use --force to enroll again", file=sys.stderr)
        return 2
    enrollment = enroll(state, args.url, args.token, args.fingerprint)
    print(f"enrolled as device {enrollment.device_id} with {enrollment.server_url}")
    print(f"state in {state.dir}; start the agent with 'deskmate-agent run'")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from endpoint_agent.connection import Agent
    from endpoint_agent.health.runner import HealthRunner
    from endpoint_agent.inventory import collect
    from endpoint_agent.inventory.isolated import collect_isolated
    from endpoint_agent.outbox import Outbox
    from endpoint_agent.sampling import prime, sample
    from endpoint_agent.state import AgentState

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    state = AgentState(_state(args))
    enrollment, ca_pem = state.load()
    key = state.load_key()
    prime()
    outbox = Outbox(state.outbox_file)

    remote = None
    display = args.display or os.environ.get("DISPLAY", "")
    remote_unavailable = "disabled" if args.no_remote else ""
    if not args.no_remote:
        from endpoint_agent.remote.backends import choose

        choice = choose(display, wanted=args.remote_backend)
        if choice.backend is None:
            remote_unavailable = choice.reason
            logging.getLogger("deskmate.agent").warning(
                "no remote sessions on this desktop: %s", choice.detail)
        else:
            from endpoint_agent.remote.lazy import LazyRemote

            remote = LazyRemote(choice.display, clipboard=not args.no_clipboard,
                                backend=choice.backend)
    tools = None
    if not (args.no_terminal and args.no_processes and args.no_services and args.no_files):
        import shlex

        from endpoint_agent.toolbox.services import ServiceConfig
        from endpoint_agent.toolbox.support import ToolSupport

        services = None
        if not args.no_services:
            services = ServiceConfig.default()
            services.scope = args.systemd_scope or services.scope
            services.journal_directory = args.journal_directory
            if args.power_command:
                services.power_command = shlex.split(args.power_command)
        tools = ToolSupport(remote, login=args.terminal_user, terminal=not args.no_terminal,
                            processes=not args.no_processes, services=services,
                            files=not args.no_files, files_root=args.files_root)

    async def main() -> int:
        from endpoint_agent.tray.local import LocalServer

        health = HealthRunner(state.health_file, outbox)
        agent = Agent(enrollment, key, ca_pem, outbox, collect_inventory=collect_isolated,
                      sample=sample, heartbeat_interval=args.heartbeat, health=health,
                      remote=remote, remote_unavailable=remote_unavailable, tools=tools)
        local = LocalServer(state.tray_socket, status=agent.status,
                            send_ticket=agent.submit_ticket, inventory=collect,
                            history_file=state.dir / "tray-tickets.json",
                            send_rating=agent.submit_rating,
                            ticket_statuses=agent.ticket_statuses,
                            language_of=agent.languages.of)
        agent.on_ticket_update = local.push
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, agent.stop)
        try:
            async with local.serving():
                await agent.run()
        except FatalConnectionError as exc:
            logging.getLogger("deskmate.agent").error(
                "the server refused this device (%s): %s", exc.code, exc)
            return EXIT_FATAL
        return 0

    try:
        return asyncio.run(main())
    finally:
        outbox.close()


def cmd_inventory(args: argparse.Namespace) -> int:
    from endpoint_agent.inventory import collect, section_digests

    inventory = collect()
    if args.json:
        json.dump(inventory, sys.stdout, indent=2, sort_keys=True, default=str)
        print()
    else:
        for section, digest in section_digests(inventory).items():
            print(f"{section:20} {digest[:12]}")
    return 0


def cmd_ticket(args: argparse.Namespace) -> int:
    from endpoint_agent.inventory import collect
    from endpoint_agent.state import AgentState
    from endpoint_agent.ticket import raise_ticket, screenshot_png

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    state = AgentState(_state(args))
    state.load()  # fail early, with the enrollment hint, when not enrolled
    shot = screenshot_png(args.display) if args.screenshot else None
    print(raise_ticket(state, args.title, description=args.description,
                       help_now=args.help_now, screenshot=shot, inventory=collect))
    return 0


def cmd_tray(args: argparse.Namespace) -> int:
    import os

    from endpoint_agent.state import AgentState
    from endpoint_agent.ticket import screenshot_png
    from endpoint_agent.tray.app import TrayApp

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    state = AgentState(_state(args))
    display = args.display or os.environ.get("DISPLAY")
    if not display:
        print("deskmate-agent: " + texts()("cli.no_display"), file=sys.stderr)
        return 2
    app = TrayApp(state.tray_socket, display_name=display,
                  screenshot=lambda: screenshot_png(display))
    app.run()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from endpoint_agent.state import AgentState

    state = AgentState(_state(args))
    enrollment, _ = state.load()
    print(f"server:      {enrollment.server_url}")
    print(f"device id:   {enrollment.device_id}")
    print(f"fingerprint: {enrollment.fingerprint}")
    print(f"state:       {state.dir}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskmate-agent",
        description="Deskmate endpoint agent: reports this machine's inventory and health "
                    "to a Deskmate server over a pinned TLS WebSocket.")
    parser.add_argument("--version", action="version", version=f"deskmate-agent {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", metavar="DIR",
                        help="where the key and enrollment live (default: "
                             "$DESKMATE_AGENT_STATE, /var/lib/deskmate-agent as root, "
                             "else ~/.local/state/deskmate-agent)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    enroll = sub.add_parser("enroll", parents=[common], help="enroll this machine",
                            description="Create this device's key, check the server against "
                                        "the fingerprint, and register with the token.")
    enroll.add_argument("url", help="the server, e.g. https://desk.example.org:8443")
    enroll.add_argument("--token", required=True, help="enrollment token from an admin")
    enroll.add_argument("--fingerprint", required=True,
                        help="sha256:... fingerprint the server printed (required: the "
                             "server is never trusted without it)")
    enroll.add_argument("--force", action="store_true", help="replace an earlier enrollment")
    enroll.set_defaults(func=cmd_enroll)

    run = sub.add_parser("run", parents=[common], help="connect and report until stopped")
    run.add_argument("--heartbeat", type=float, metavar="SECONDS",
                     help="heartbeat interval (default: what the server asks for)")
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    run.add_argument("--display", help="X display for remote sessions (default $DISPLAY)")
    run.add_argument("--remote-backend", default="auto",
                     choices=("auto", "x11", "gnome-wayland"),
                     help="how to serve remote sessions (default: chosen from the session: "
                          "GNOME on Wayland through Mutter's interfaces, else X11)")
    run.add_argument("--no-remote", action="store_true",
                     help="never offer remote sessions on this machine")
    run.add_argument("--no-terminal", action="store_true",
                     help="do not offer terminals to technicians")
    run.add_argument("--no-files", action="store_true",
                     help="do not offer the Files tool (browse, download, upload) to technicians")
    run.add_argument("--files-root", metavar="FOLDER",
                     help="the folder Files sessions not run as root may use (default: the "
                          "home folder of the account they run as)")
    run.add_argument("--terminal-user", metavar="LOGIN",
                     help="the account of terminals not run as root (default: the user "
                          "logged in at the computer)")
    run.add_argument("--no-processes", action="store_true",
                     help="do not offer the process list to technicians")
    run.add_argument("--no-services", action="store_true",
                     help="do not offer the services tool (systemd units, reboot, shutdown)")
    run.add_argument("--systemd-scope", choices=("system", "user"),
                     help="the service manager of the services tool (default: the system's "
                          "when the agent runs as root, else the user's)")
    run.add_argument("--journal-directory", metavar="DIR",
                     help="read unit journals from the journal files in DIR")
    run.add_argument("--power-command", metavar="COMMAND",
                     help="run COMMAND reboot|shutdown instead of systemctl reboot|poweroff")
    run.add_argument("--no-clipboard", action="store_true",
                     help="never pass clipboard text in remote sessions on this machine")
    run.set_defaults(func=cmd_run)

    inv = sub.add_parser("inventory", help="print the inventory this agent would send")
    inv.add_argument("--json", action="store_true", help="the full inventory as JSON")
    inv.set_defaults(func=cmd_inventory)

    ticket = sub.add_parser("ticket", parents=[common],
                            help="raise a ticket for the user running this command",
                            description="Raise a ticket linked to this device, with an "
                                        "inventory snapshot attached, through the running "
                                        "agent (as the tray does), for the login running "
                                        "this command. Queued if the agent is not running "
                                        "or the server cannot be reached.")
    ticket.add_argument("title", help="what is wrong, in a few words")
    ticket.add_argument("--description", default="", help="more detail")
    ticket.add_argument("--screenshot", action="store_true",
                        help="attach a screenshot of the whole screen")
    ticket.add_argument("--display", help="X display for the screenshot (default $DISPLAY)")
    ticket.add_argument("--help-now", action="store_true",
                        help="ask for a technician to connect (raises the urgency)")
    ticket.set_defaults(func=cmd_ticket)

    tray = sub.add_parser("tray", parents=[common],
                          help="show the tray icon in this desktop session",
                          description="An icon in the panel (a StatusNotifierItem where the "
                                      "desktop has a watcher, else the X11 system tray) with "
                                      "Raise a ticket, My tickets, Get help now and the "
                                      "connection status. It talks to the running agent "
                                      "over its local socket.")
    tray.add_argument("--display", help="X display (default $DISPLAY)")
    tray.set_defaults(func=cmd_tray)

    status = sub.add_parser("status", parents=[common], help="show the enrollment")
    status.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AgentError as exc:
        print(f"deskmate-agent: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
