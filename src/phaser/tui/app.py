"""phaser's terminal UI: `phaser` with no command, or `phaser tui`.

The app only holds what every screen shares: the project, the provider to inject into runs
(tests and demos pass a scripted one; by default runs build their own model client, inside the
worker, so the anthropic SDK is never imported here), and how to open $EDITOR.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from phaser.tui.confirm import ConfirmScreen
from phaser.tui.home import HomeScreen
from phaser.tui.plan_tree import PlanTree
from phaser.workflow.editor import editor_command
from phaser.workflow.project import Project

if TYPE_CHECKING:
    from phaser.agent.provider import Provider

EditorFn = Callable[[Path], None]


class PhaserApp(App[int]):
    CSS_PATH = "phaser.tcss"
    TITLE = "phaser"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(
        self,
        project: Project,
        *,
        provider: Provider | None = None,
        editor: EditorFn | None = None,
        watch_files: bool = True,
        debounce_s: float = 0.2,
        poll_s: float = 2.0,
    ) -> None:
        super().__init__()
        self.project = project
        self.provider = provider
        """Injected into every run (RunOptions.provider_obj); None: runs build the configured provider."""
        self.editor = editor
        self.watch_files = watch_files
        self.debounce_s = debounce_s
        self.poll_s = poll_s
        """How often the screen looks again at a run another process has going on the shown plan."""
        self.sub_title = str(project.root)
        self._provider_lock = threading.Lock()
        from phaser.tui.settings import load_settings

        theme = load_settings().get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme) -> None:
        """The person's theme (T, or the palette's "Change theme") is kept for the next start."""
        from phaser.tui.settings import save_setting

        save_setting("theme", theme.name)

    def session_provider(self) -> Provider | None:
        """The provider for a run (called on the worker thread).

        A scripted provider named in the config is built once and kept, so its script carries on
        from run to run within the session (as `phaser demo` does); any other provider is left to
        the workflow, which builds it inside the run (the model client is imported only then).
        """
        with self._provider_lock:
            if self.provider is None and self.project.config.provider.name == "scripted":
                from phaser.workflow.providers import RunOptions, make_provider

                self.provider = make_provider(self.project, RunOptions())
            return self.provider

    def get_default_screen(self) -> Screen:
        return HomeScreen()

    @property
    def home(self) -> HomeScreen:
        """The home screen, wherever it is in the stack."""
        return next(s for s in self.screen_stack if isinstance(s, HomeScreen))

    def open_editor(self, path: Path) -> None:
        """Open ``path`` in $VISUAL/$EDITOR with the app suspended; the screen comes back afterwards."""
        if self.editor is not None:
            self.editor(path)
            return
        command = editor_command(path)
        try:
            with self.suspend():
                subprocess.run(command, check=False)
        except SuspendNotSupported:
            self.notify(
                f"cannot hand the terminal to an editor here: edit {path} yourself", severity="warning"
            )
        except OSError as exc:
            self.notify(f"{command[0]}: {exc.strerror or exc}", title="Editor", severity="error")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, HomeScreen):
            # every action of the screen and of the plan tree, with its key
            tree = screen.plan_view.plan_tree
            seen: set[str] = set()
            for binding in [*screen.BINDINGS, *PlanTree.BINDINGS]:
                if (
                    not isinstance(binding, Binding)
                    or binding.action in seen
                    or not binding.show
                    and (
                        binding.action
                        in ("cursor_down", "cursor_up", "cursor_g", "cursor_bottom", "fold", "unfold")
                    )
                ):
                    continue
                seen.add(binding.action)
                on_screen = binding in screen.BINDINGS or binding.action.startswith("screen.")
                action = binding.action.removeprefix("screen.")
                if on_screen and not screen.check_action(action, ()):
                    continue
                title = screen.PALETTE.get(action, binding.description)
                keys = [
                    self.get_key_display(b)
                    for b in [*screen.BINDINGS, *PlanTree.BINDINGS]
                    if isinstance(b, Binding) and b.action == binding.action
                ]
                target = screen if on_screen else tree
                yield SystemCommand(
                    f"{title}  ({' / '.join(keys)})",
                    binding.tooltip or title,
                    partial(target.run_action, action),
                )

    async def action_quit(self) -> None:
        home = self.screen_stack[0] if self.screen_stack else None
        if isinstance(home, HomeScreen) and home.job is not None:
            job = home.job

            def answer(yes: bool | None) -> None:
                if yes:
                    job.stop.set()
                    self.exit(0)

            self.push_screen(
                ConfirmScreen(
                    f"{job.what} is running. Stop it and quit? (the phase stays resumable)",
                    yes="Stop and quit",
                    no="Stay",
                ),
                answer,
            )
            return
        self.exit(0)


def run_app(project: Project) -> int:
    """Run the TUI until the person quits; the exit code for `phaser tui`."""
    app = PhaserApp(project)
    app.run()
    return app.return_code or 0
