"""Code every Lambda function of the suite shares, whatever its system: bundled into each
function as the top-level package ``suite_lib`` (stacks/common/bundling.py), imported
absolutely (``from suite_lib import strict_json``). Standard library only.
"""
