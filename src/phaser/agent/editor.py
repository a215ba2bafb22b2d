"""The text editor tool (``str_replace_based_edit_tool``): view, create, str_replace, insert.

Results and error strings follow Anthropic's reference implementation, which is what Claude is
trained on. Every write goes through ``PathPolicy.check_write`` first; failures raise ToolError
(or PolicyRefusal), which the ToolBox turns into an ``is_error`` tool_result.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from phaser.agent.policy import PathPolicy, Step

SNIPPET_LINES = 4
COMMANDS = ("view", "create", "str_replace", "insert")


class ToolError(Exception):
    """A tool call that cannot be carried out; the message goes back to the model."""


def numbered(text: str, label: str, start: int = 1) -> str:
    body = "\n".join(f"{i + start:6}\t{line}" for i, line in enumerate(text.split("\n")))
    return f"Here's the result of running `cat -n` on {label}:\n{body}\n"


class TextEditor:
    def __init__(self, root: Path, policy: PathPolicy) -> None:
        self.root = Path(root)
        self.policy = policy

    def run(self, args: dict[str, Any], step: Step) -> str:
        command = args.get("command")
        path = args.get("path")
        if command not in COMMANDS:
            raise ToolError(
                f"Unrecognized command {command}. The allowed commands for the "
                f"str_replace_based_edit_tool tool are: {', '.join(COMMANDS)}"
            )
        if not isinstance(path, str) or not path:
            raise ToolError("Parameter `path` is required and must be a string.")
        if command == "view":
            return self.view(path, args.get("view_range"))
        if command == "create":
            text = args.get("file_text")
            if not isinstance(text, str):
                raise ToolError("Parameter `file_text` is required for command: create")
            return self.create(path, text, step)
        if command == "str_replace":
            old, new = args.get("old_str"), args.get("new_str", "")
            if not isinstance(old, str) or not isinstance(new, str):
                raise ToolError("Parameter `old_str` is required for command: str_replace")
            return self.str_replace(path, old, new, step)
        line = args.get("insert_line")
        text = args.get("insert_text", args.get("new_str"))
        if not isinstance(line, int) or isinstance(line, bool):
            raise ToolError("Parameter `insert_line` is required for command: insert")
        if not isinstance(text, str):
            raise ToolError("Parameter `insert_text` is required for command: insert")
        return self.insert(path, line, text, step)

    # -- commands ---------------------------------------------------------------------------------

    def view(self, path: str, view_range: Any = None) -> str:
        real = self.policy.check_read(path)
        if real.is_dir():
            if view_range is not None:
                raise ToolError(
                    "The `view_range` parameter is not allowed when `path` points to a directory."
                )
            return self._list_dir(real, path)
        text = self._read(real, path)
        if view_range is None:
            return numbered(text, path)
        lines = text.split("\n")
        if (
            not isinstance(view_range, list)
            or len(view_range) != 2
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in view_range)
        ):
            raise ToolError("Invalid `view_range`. It should be a list of two integers.")
        first, last = view_range
        n = len(lines)
        if first < 1 or first > n:
            raise ToolError(
                f"Invalid `view_range`: {view_range}. Its first element `{first}` should be within "
                f"the range of lines of the file: {[1, n]}"
            )
        if last != -1 and last > n:
            raise ToolError(
                f"Invalid `view_range`: {view_range}. Its second element `{last}` should be smaller "
                f"than the number of lines in the file: `{n}`"
            )
        if last != -1 and last < first:
            raise ToolError(
                f"Invalid `view_range`: {view_range}. Its second element `{last}` should be larger "
                f"or equal than its first `{first}`"
            )
        chosen = lines[first - 1 :] if last == -1 else lines[first - 1 : last]
        return numbered("\n".join(chosen), path, start=first)

    def create(self, path: str, text: str, step: Step) -> str:
        real = self.policy.check_write(path, step, "create")
        if os.path.lexists(real):
            raise ToolError(f"File already exists at: {path}. Cannot overwrite files using command `create`.")
        real.parent.mkdir(parents=True, exist_ok=True)
        self._write(real, text, None)
        return f"File created successfully at: {path}"

    def str_replace(self, path: str, old: str, new: str, step: Step) -> str:
        real = self.policy.check_write(path, step, "modify")
        text = self._read(real, path)
        count = text.count(old) if old else 0
        if count == 0:
            raise ToolError(
                f"No replacement was performed, old_str `{old}` did not appear verbatim in {path}."
            )
        if count > 1:
            lines = [i + 1 for i, line in enumerate(text.split("\n")) if old.split("\n")[0] in line]
            raise ToolError(
                f"No replacement was performed. Multiple occurrences of old_str `{old}` in lines {lines}. "
                "Please ensure it is unique"
            )
        new_text = text.replace(old, new)
        self._write(real, new_text, real.stat().st_mode)
        at = text.split(old)[0].count("\n")
        start = max(0, at - SNIPPET_LINES)
        snippet = "\n".join(new_text.split("\n")[start : at + SNIPPET_LINES + new.count("\n") + 1])
        return (
            f"The file {path} has been edited. "
            + numbered(snippet, f"a snippet of {path}", start + 1)
            + "Review the changes and make sure they are as expected. Edit the file again if necessary."
        )

    def insert(self, path: str, line: int, text: str, step: Step) -> str:
        real = self.policy.check_write(path, step, "modify")
        old = self._read(real, path)
        lines = old.split("\n")
        if line < 0 or line > len(lines):
            raise ToolError(
                f"Invalid `insert_line` parameter: {line}. It should be within the range of lines "
                f"of the file: {[0, len(lines)]}"
            )
        new_lines = text.split("\n")
        new_text = "\n".join(lines[:line] + new_lines + lines[line:])
        self._write(real, new_text, real.stat().st_mode)
        start = max(0, line - SNIPPET_LINES)
        snippet = "\n".join(
            (lines[:line] + new_lines + lines[line:])[start : line + len(new_lines) + SNIPPET_LINES]
        )
        return (
            f"The file {path} has been edited. "
            + numbered(snippet, "a snippet of the edited file", start + 1)
            + "Review the changes and make sure they are as expected (correct indentation, no duplicate "
            "lines, etc). Edit the file again if necessary."
        )

    # -- helpers ----------------------------------------------------------------------------------

    def _read(self, real: Path, label: str) -> str:
        if not os.path.lexists(real):
            raise ToolError(f"The path {label} does not exist. Please provide a valid path.")
        if real.is_dir():
            raise ToolError(
                f"The path {label} is a directory and only the `view` command can be used on directories"
            )
        try:
            return real.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ToolError(f"{label} is not UTF-8 text; the editor only handles text files.") from None
        except OSError as exc:
            raise ToolError(f"Ran into {exc.strerror} while trying to read {label}") from None

    def _write(self, real: Path, text: str, mode: int | None) -> None:
        """Write via a temporary file and rename: never through a link, never half a file."""
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=".phaser-edit-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.chmod(tmp, (mode & 0o7777) if mode is not None else 0o644)
            os.replace(tmp, real)
        except OSError as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise ToolError(f"Ran into {exc.strerror} while trying to write to {real}") from None

    def _list_dir(self, real: Path, label: str) -> str:
        out: list[str] = []
        base_depth = len(real.parts)
        for folder, dirs, files in os.walk(real):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            depth = len(Path(folder).parts) - base_depth
            if depth >= 2:
                dirs[:] = []
            shown = Path(folder).relative_to(self.policy.root_real)
            out.append(shown.as_posix() if str(shown) != "." else ".")
            if depth < 2:
                for f in sorted(files):
                    if not f.startswith("."):
                        out.append((shown / f).as_posix())
        listing = "\n".join(out)
        return (
            f"Here's the files and directories up to 2 levels deep in {label}, excluding hidden items:\n"
            f"{listing}\n"
        )
