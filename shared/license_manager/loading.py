"""The end of a function's cold start: its modules are loaded.

Every function's `app.py` turns CPython's garbage collector off before its first import, and
calls `loaded()` once its set-up is done. Loading a function creates about 200,000 objects, none
of them garbage, and the collections their allocations trigger would walk them all (a full one
costs ~17 ms at that size, and there are many young ones): about 10 % of a cold start, measured
side by side in bench/coldstart.py (docs/decisions.md, 83). `loaded()` turns the collector back
on and freezes what was loaded (`gc.freeze`), so that the collections of every request skip it.
"""

from __future__ import annotations

import gc


def loaded() -> None:
    gc.enable()
    gc.freeze()
