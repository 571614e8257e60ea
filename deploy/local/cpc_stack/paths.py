"""Where the stack keeps what it fetched (a cache shared by checkouts) and what it runs (per checkout)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("CPC_CACHE_DIR", Path.home() / ".cache" / "cpc-stack"))
RUN = Path(os.environ.get("CPC_RUN_DIR", REPO / ".stack"))
LOGS = RUN / "logs"
PIDS = RUN / "pids"
MAILDIR = RUN / "mail"
# Every local port moves by this much, so a second checkout can run its own stack beside the first.
PORT_OFFSET = int(os.environ.get("CPC_STACK_PORT_OFFSET", "0"))
