"""The ``mixsim`` command line: it parses, calls one library function per command, prints and writes.

:mod:`mixsim.cli.main` holds the parser table and :func:`main`; one module per group of commands
(:mod:`~mixsim.cli.scenario`, :mod:`~mixsim.cli.simulate`, :mod:`~mixsim.cli.optimize` with
:mod:`~mixsim.cli.weekly`, :mod:`~mixsim.cli.research`) holds their options and handlers; :mod:`~mixsim.cli.text`
formats results as text, :mod:`~mixsim.cli.outputs` checks outputs and shows progress, :mod:`~mixsim.cli.options`
holds the shared options and argument types. It must not compute what the library should.
"""

from mixsim.cli.main import main

__all__ = ["main"]
