"""Scenario-file commands: ``validate``, ``schema``, ``new`` and ``list-templates``.

Each handler parses, calls one function of :mod:`mixsim.scenario` and prints; the rules are the library's. This
module (and what it imports) loads none of pandas, scipy or matplotlib, so ``mixsim validate`` starts fast.
"""

from __future__ import annotations

import argparse
import json

from mixsim.cli import options
from mixsim.cli.outputs import out_file
from mixsim.errors import InputError
from mixsim.scenario import json_schema, load_scenario
from mixsim.scenario.templates import list_templates, template_text, write_template


def setup_validate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    options.add_set(parser)


def setup_schema(parser: argparse.ArgumentParser) -> None:
    pass


def setup_new(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", required=True, metavar="NAME", help="see mixsim list-templates")
    parser.add_argument("--out", metavar="FILE", help="write it to FILE, a .toml file (default: print it)")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def setup_list_templates(parser: argparse.ArgumentParser) -> None:
    pass


def _validate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    print(
        f"{args.scenario}: ok ({scenario.name!r}: {len(scenario.channels)} channels, "
        f"{len(scenario.segments)} segments, population {scenario.population:,}, {scenario.horizon_days} days)"
    )
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def _new(args: argparse.Namespace) -> int:
    if args.out is None:
        print(template_text(args.template), end="")
        return 0
    out_file(args.out, (".toml",), "a scenario")
    try:
        write_template(args.template, args.out, overwrite=args.force)
    except InputError as exc:  # the library names its parameter; here it is a flag
        raise InputError([line.replace("overwrite=True", "--force") for line in exc.problems]) from None
    print(f"{args.out}: written from template {args.template}; check it with: mixsim validate {args.out}")
    return 0


def _list_templates(args: argparse.Namespace) -> int:
    templates = list_templates()
    width = max(len(name) for name in templates) + 2
    for name, about in templates.items():
        print(f"{name:<{width}}{about}")
    return 0


COMMANDS = {
    "validate": (setup_validate, _validate),
    "schema": (setup_schema, _schema),
    "new": (setup_new, _new),
    "list-templates": (setup_list_templates, _list_templates),
}
"""Each command's options and handler, for the parser table in :mod:`mixsim.cli.main`."""
