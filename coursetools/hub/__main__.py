"""``make hub`` and ``make hub-clean``: a demo class on a real JupyterHub, on this machine.

    python -m coursetools.hub setup [--root DIR] [--port N]   # accounts, exchange, course, release
    python -m coursetools.hub start [--root DIR]              # JupyterHub in the foreground
    python -m coursetools.hub clean [--root DIR]              # the demo's accounts and folder, nothing else

Run as root (the hub creates accounts and starts servers as them).
"""
import argparse
import os
import pathlib
import secrets
import socket
import sys

from coursetools.hub import classroom as cls

CONFIG = pathlib.Path(__file__).with_name("jupyterhub_config.py")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        # as a server binds it: connections of a stopped proxy left in TIME_WAIT do not count
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def assign_ports(classroom: cls.Classroom, public: int | None = None):
    """The public port asked for; free ports, new at every start, for the hub's API, the
    proxy's API and the service (JupyterHub takes a proxy already answering on its API port
    for its own, so a port another hub used must not be reused blindly)."""
    if public is not None:
        classroom.port = public
    if not port_free(classroom.port):
        raise SystemExit(f"port {classroom.port} is taken: choose another (HUB_PORT=...)")
    for name in ("hub_port", "proxy_api_port", "service_port"):
        setattr(classroom, name, free_port())
    classroom.save()


def setup(root: pathlib.Path, port: int | None, prefix: str = cls.DEMO_PREFIX,
          assignments=None) -> cls.Classroom:
    if (root / "class.json").exists():
        classroom = cls.Classroom.load(root)
        print(f"the class in {root} exists already (make hub-clean removes it)")
    else:
        classroom = cls.Classroom(root=root, prefix=prefix,
                                  assignments=tuple(assignments or ("ex01_rnn_forward",)))
        print(f"creating the demo class in {root}: accounts {', '.join(classroom.accounts)}")
        cls.create(classroom, autograde={"assignments": dict.fromkeys(classroom.assignments,
                                                                       "return")})
    assign_ports(classroom, port)
    return classroom


def hub_command(classroom: cls.Classroom) -> tuple[list[str], dict]:
    """The command and environment that start the class's hub."""
    token = classroom.state / "proxy_token"
    if not token.exists():
        cls.write_private(token, secrets.token_hex(32))
    env = {**os.environ, "RNN_HUB_ROOT": str(classroom.root),
           "PATH": f"{cls.BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return [str(cls.BIN / "jupyterhub"), "-f", str(CONFIG)], env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "start", "clean"])
    parser.add_argument("--root", type=pathlib.Path, default=cls.DEMO_ROOT)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--assignments", nargs="*", default=None)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("the class hub runs as root: it creates accounts and starts servers as them")
        return 1
    if args.command == "clean":
        removed = cls.remove(args.root)
        print("removed: " + (", ".join(removed) if removed else "nothing (no demo class)"))
        return 0
    if args.command == "setup":
        setup(args.root, args.port, assignments=args.assignments)
        return 0
    classroom = setup(args.root, args.port, assignments=args.assignments)
    command, env = hub_command(classroom)
    print(f"\nThe class hub: http://127.0.0.1:{classroom.port}/ (Ctrl-C stops it; "
          "make hub-clean removes the demo class)")
    print(f"log in as (passwords in {classroom.root / 'passwords.txt'}):")
    for line in (classroom.root / "passwords.txt").read_text().splitlines():
        account, password = line.split()
        print(f"  {account:28s} {password}   ({classroom.role(account)})")
    print(f"autograde status (as the instructor): http://127.0.0.1:{classroom.port}"
          "/services/autograde/\n", flush=True)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    sys.exit(main())
