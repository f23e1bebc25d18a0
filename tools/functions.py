"""Load a Lambda function's handler module from functions/<name>/, and the Lambda context it gets."""

from __future__ import annotations

import importlib.util
import itertools
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from tools.template import ROOT

_counter = itertools.count()


@dataclass
class FakeContext:
    """The attributes of a Lambda context that the code (and Powertools) reads."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_module(code_uri: str, handler: str) -> ModuleType:
    module_name, _, _ = handler.rpartition(".")
    path = ROOT / code_uri / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(f"_lambda_{Path(code_uri).name}_{next(_counter)}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
