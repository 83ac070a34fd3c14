"""Resource limits of the expression engine.

Rule: every bound that protects a service from a hostile expression lives here, with the reason
for its value, so the documentation (docs/expressions.md, "Limits") and the code cannot drift.
Expressions come from rules, workflows and parameters that any pack author writes and that run
on every event; these limits keep one bad expression to a fast ExpressionError.
"""

from __future__ import annotations

__all__ = [
    "CACHED_TEMPLATE_LENGTH",
    "EVAL_BUDGET",
    "EXPRESSION_CACHE_SIZE",
    "INT_MAX",
    "INT_MIN",
    "MAX_NESTING",
    "MAX_RANGE",
    "MAX_REGEX_INPUT",
    "MAX_REGEX_PATTERN",
    "MAX_SOURCE_LENGTH",
    "MAX_TEMPLATE_LENGTH",
    "REGEX_CACHE_SIZE",
    "REGEX_MAX_MEMORY",
    "TEMPLATE_CACHE_SIZE",
]

# Real conditions and templates are under 500 characters; 10,000 leaves room for generated
# expressions while bounding tokenizer and parser work to well under a millisecond.
MAX_SOURCE_LENGTH = 10_000

# A template string is mostly literal text (a message body, a script); only its {{ }} segments
# are parsed, each bounded by MAX_SOURCE_LENGTH. 1 MiB bounds the scan and the rendered output.
MAX_TEMPLATE_LENGTH = 1_048_576

# Parentheses, brackets, braces, call arguments and unary operators nest the recursive-descent
# parser, the compiler and the evaluation closures. 32 levels is far beyond anything a human
# writes and keeps the Python stack use (about ten frames per level) far from the interpreter's
# recursion limit even when the caller is already deep in its own stack.
MAX_NESTING = 32

# range() feeds with_items loops, where every element becomes a child execution: 10,000 is
# already more children than one workflow should create.
MAX_RANGE = 10_000

# Characters plus array/object elements one evaluation (or one template string) may build with
# +, functions and literals. 1,000,000 is about a megabyte of text; it stops doubling tricks such
# as s + s + s ... and repeated range() calls long before memory or time matter.
EVAL_BUDGET = 1_000_000

# Integers are 64-bit signed like the JSON numbers of the original system: arithmetic that leaves
# this range is an error, which also keeps Python's big-integer arithmetic from running away.
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

# match() uses RE2 (linear time, no backtracking). The pattern and input bounds keep compilation
# and one match in the microsecond-to-millisecond range; the memory bound caps RE2's DFA.
MAX_REGEX_PATTERN = 1_000
MAX_REGEX_INPUT = 1_048_576
REGEX_MAX_MEMORY = 8 << 20

# Compiled-expression and compiled-template caches. A pack set has a few thousand distinct
# expressions; entries are small (closures), so 4096 keeps the hot set without unbounded growth.
EXPRESSION_CACHE_SIZE = 4096
TEMPLATE_CACHE_SIZE = 4096
# Templates longer than this are compiled on each render instead of being cached: caching large
# one-off texts (message bodies) would hold megabytes for no reuse.
CACHED_TEMPLATE_LENGTH = 4096
REGEX_CACHE_SIZE = 256
