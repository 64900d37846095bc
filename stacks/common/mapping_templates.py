"""Loads API Gateway mapping templates (VTL) kept as files next to the stack code."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

_PLACEHOLDER = re.compile(r"\{\{([A-Za-z]+)\}\}")


def load_mapping_template(path: Path, values: Mapping[str, str] | None = None) -> str:
    """Return the template with every ``{{Name}}`` placeholder filled from ``values``.

    Placeholders use ``{{ }}`` because ``${...}`` belongs to VTL and to ``Fn::Sub``.
    Values may be CDK tokens (a table name, say); they resolve at synth. A placeholder
    left without a value, or a value without a placeholder, is a bug and raises.
    """
    values = dict(values or {})
    text = path.read_text(encoding="utf-8")
    used = set(_PLACEHOLDER.findall(text))
    missing = used - values.keys()
    unused = values.keys() - used
    if missing or unused:
        raise ValueError(f"{path.name}: placeholders without value {sorted(missing)}, "
                         f"values without placeholder {sorted(unused)}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
