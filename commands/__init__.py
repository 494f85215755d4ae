"""mapctl's commands, one module a group (as pre-commit and pip keep them); `cli.py` is the
entry point and loads a command's module only when that command runs."""
