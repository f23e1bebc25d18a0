"""python -m license_client COMMAND ... : the reference client's command line.

  register        --api URL --code CODE --name NAME --product PRODUCT_ID
  report          --devices N
  license         fetch, verify and keep the signed license
  verify          verify the kept license offline (--jwks FILE pins the keys)
  rotate          a new credential; the old one stops working
  export-request  --name NAME --product PRODUCT_ID --devices N [--out FILE]: a system file (offline site)
  import-license  FILE [--jwks FILE]: a license file an admin carried back

The installation's state is kept in --state (default ./license-client.json, readable by its owner only).
Licenses are checked against this machine's clock, or --now (epoch seconds) against a dev server's.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from license_client.client import Installation, LicenseError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="license_client", description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=Path("license-client.json"))
    parser.add_argument("--now", type=float, help="verify licenses as of this epoch second (a dev server's clock)")
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register")
    for name in ("api", "code", "name", "product"):
        register.add_argument(f"--{name}", required=True)
    commands.add_parser("report").add_argument("--devices", type=int, required=True)
    commands.add_parser("license")
    commands.add_parser("verify").add_argument("--jwks", type=Path)
    commands.add_parser("rotate")
    export = commands.add_parser("export-request")
    export.add_argument("--name", required=True)
    export.add_argument("--product", required=True)
    export.add_argument("--devices", type=int, required=True)
    export.add_argument("--out", type=Path)
    imported = commands.add_parser("import-license")
    imported.add_argument("file", type=Path)
    imported.add_argument("--jwks", type=Path)
    return parser


def _pinned(jwks: Path | None) -> list[dict[str, object]] | None:
    return list(json.loads(jwks.read_text())["keys"]) if jwks else None


def _register(it: Installation, args: argparse.Namespace) -> object:
    it.register(args.api, args.code, args.name, args.product)
    return {"system_id": it.system_id, "product_id": it.product_id}


def _verify(it: Installation, args: argparse.Namespace) -> object:
    it.keys = _pinned(args.jwks) or it.keys
    return it.check()


def _rotate(it: Installation, _args: argparse.Namespace) -> object:
    it.rotate()
    return {"system_id": it.system_id, "rotated": True}


def _export(it: Installation, args: argparse.Namespace) -> object:
    request = it.export_request(args.name, args.product, args.devices)
    if args.out:
        args.out.write_text(json.dumps(request, indent=2))
    return request


def _import(it: Installation, args: argparse.Namespace) -> object:
    return it.import_license(json.loads(args.file.read_text())["license"], _pinned(args.jwks))


COMMANDS: dict[str, Callable[[Installation, argparse.Namespace], object]] = {
    "register": _register,
    "report": lambda it, args: it.report(args.devices),
    "license": lambda it, _args: it.fetch_license(),
    "verify": _verify,
    "rotate": _rotate,
    "export-request": _export,
    "import-license": _import,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    installation = Installation.load(args.state)
    installation.now = args.now
    try:
        result = COMMANDS[args.command](installation, args)
    except LicenseError as err:
        print(json.dumps({"error": str(err), "status": err.status, "problem": err.problem}), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
