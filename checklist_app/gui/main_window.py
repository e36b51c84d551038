"""The main window: topics on the left, the items of the selected topic in the middle, the
selected item's details on the right; a toolbar, a status bar with the scan's progress.

The window holds one `Workspace` (the only way to the data) and at most one open project. Scans
run in a worker process (`Scanner`); recording them and everything else that touches the store
runs here, on the main thread.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QProcess, QSettings, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QStyle,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from checklist_app import __version__
from checklist_app.findings import AnswerValue, Evidence
from checklist_app.gui.answers_dialog import ProposalsDialog, read_limited
from checklist_app.gui.banner import Banner
from checklist_app.gui.details import SAFE_LINK_SCHEMES, AnswerRequest, DetailsPane
from checklist_app.gui.editor import editor_command, project_file, safe_for_system_handler
from checklist_app.gui.errors import ErrorDisplay, show_error
from checklist_app.gui.filters import FILTER_MENU_TEXT, Filter, next_needing_attention
from checklist_app.gui.icons import StatusIcons
from checklist_app.gui.items_panel import ItemsPanel
from checklist_app.gui.models import (
    HistoryLine,
    ItemModel,
    RecentProject,
    RecentProjectsModel,
    TopicModel,
    topic_rows,
)
from checklist_app.gui.review_panel import Confirm, ReviewPanel, ask
from checklist_app.gui.scan_process import JobFunction, ScanJob, scan_job
from checklist_app.gui.settings import WindowSettings
from checklist_app.gui.sidebar import Sidebar
from checklist_app.gui.watcher import DEBOUNCE_MS, ProjectWatcher
from checklist_app.gui.welcome import WelcomePage
from checklist_app.gui.wording import ANSWER_WORDS, Badge, percent_text, when_text
from checklist_app.gui.worker import ScanDone, Scanner
from checklist_app.progress import Progress

if TYPE_CHECKING:  # loaded after the window shows (start-up stays lean)
    from checklist_app.gui.export_dialog import ExportDialog
    from checklist_app.gui.facts import ProjectFacts
    from checklist_app.workspace import AnswerChange, ProjectRecord, Workspace

Launcher = Callable[[list[str]], bool]
"""Starts a program detached from the app; False when it could not be started."""
UrlOpener = Callable[[QUrl], bool]
RECENT_LIMIT = 10
ANSWERS_FILE = ".flask-checklist.yaml"
REVIEW_DOCK_WIDTH = 440
"""The review dock's width when it opens narrower: at most a third of the window."""


def start_detached(argv: list[str]) -> bool:
    started, _pid = QProcess.startDetached(argv[0], argv[1:])
    return bool(started)


def history_lines(changes: Iterable[AnswerChange]) -> tuple[HistoryLine, ...]:
    """Newest first."""
    lines = []
    for change in changes:
        old = ANSWER_WORDS[change.old_value] if change.old_value is not None else "no answer"
        new = ANSWER_WORDS[change.new_value] if change.new_value is not None else "cleared"
        lines.append(HistoryLine(change.changed_at, change.author, f"{old} → {new}",
                                 change.reason))
    return tuple(sorted(lines, key=lambda line: line.changed_at, reverse=True))


def banner_messages(progress: Progress | None, facts: ProjectFacts | None,
                    problems: int) -> tuple[str, ...]:
    messages = []
    info = progress.project if progress is not None else None
    scanned = progress is not None and progress.scan is not None
    if scanned and info is not None and not info.is_git:
        messages.append("This folder is not a git repository: items that read the history "
                        "(CI, committed secrets, changes over time) cannot be checked and stay "
                        "unknown.")
    if facts is not None and not facts.is_flask:
        messages.append("No Flask found here (no Flask dependency, no module imports flask): "
                        "most items will not apply. Is this the project's folder?")
    if facts is not None and not facts.watch_complete:
        messages.append("This project is large: only part of it is watched for changes. "
                        "Press F5 to rescan after editing.")
    if problems:
        messages.append(f"{problems} problem(s) in the checklists: the items concerned are "
                        "left out. Run `checklist-app rules check` for the list.")
    return tuple(messages)


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: QSettings,
        connect: Callable[[], Workspace],
        *,
        launcher: Launcher = start_detached,
        open_url: UrlOpener = QDesktopServices.openUrl,
        debounce_ms: int = DEBOUNCE_MS,
        environ: dict[str, str] | None = None,
        show: ErrorDisplay = show_error,
        scan_job: JobFunction = scan_job,
        confirm: Confirm = ask,
    ) -> None:
        super().__init__()
        self.settings = WindowSettings(settings)
        self._connect = connect
        self._launcher = launcher
        self._open_url = open_url
        self._environ = environ if environ is not None else dict(os.environ)
        self._show_error = show
        self._confirm = confirm
        self.workspace: Workspace | None = None
        self.project: ProjectRecord | None = None
        self.progress: Progress | None = None
        self.facts: ProjectFacts | None = None
        self._author: str | None = None
        self._change_pending = False
        self._selected: str | None = None

        self.setWindowTitle("Flask Checklist")
        self.setAcceptDrops(True)
        self.icons = StatusIcons(QApplication.palette(), self.devicePixelRatioF())
        self.scanner = Scanner(self, run=scan_job)
        self.scanner.progressed.connect(self._scan_progressed)
        self.scanner.finished.connect(self._scan_finished)
        self.watcher = ProjectWatcher(debounce_ms, self)
        self.watcher.changed.connect(self._files_changed)

        self.topic_model = TopicModel(self)
        self.item_model = ItemModel(self.icons, self)
        self.recent_model = RecentProjectsModel(self)
        self.sidebar = Sidebar(self.topic_model)
        self.sidebar.topics.selectionModel().currentChanged.connect(self._topic_changed)
        self.items = ItemsPanel(self.item_model)
        self.items.current_changed.connect(self._item_changed)
        self.details = DetailsPane(self.icons)
        self.details.evidence_activated.connect(self.open_evidence)
        self.details.link_activated.connect(self.open_link)
        self.details.answer_submitted.connect(self.save_answer)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.items)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([290, 680, 470])
        self.banner = Banner()
        project_page = QWidget()
        column = QVBoxLayout(project_page)
        column.setContentsMargins(6, 6, 6, 0)
        column.addWidget(self.banner)
        column.addWidget(self.splitter, 1)
        self.project_page = project_page
        self.welcome = WelcomePage(self.recent_model)
        self.welcome.open_folder.connect(self.choose_folder)
        self.welcome.open_demo.connect(self.open_demo)
        self.welcome.open_recent.connect(lambda root: self.open_project(Path(root)))
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(project_page)
        self.setCentralWidget(self.stack)
        self.review_panel = ReviewPanel(show=show, confirm=confirm)
        self.review_dock = QDockWidget("Reviews and Progress", self)
        self.review_dock.setObjectName("reviewDock")
        self.review_dock.setWidget(self.review_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.review_dock)
        self.review_dock.hide()
        self.review_dock.visibilityChanged.connect(self._review_dock_shown)
        self.export_dialog: ExportDialog | None = None
        self.proposals_dialog: ProposalsDialog | None = None

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._restore_window()
        self._update_actions()

    # --- building -------------------------------------------------------------------------

    def _action(self, text: str, slot: Callable[[], object], shortcut: str | QKeySequence = "",
                icon: QStyle.StandardPixmap | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if tip:
            action.setStatusTip(tip)
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        pixmap = QStyle.StandardPixmap
        self.open_action = self._action("&Open Folder…", self.choose_folder,
                                        QKeySequence(QKeySequence.StandardKey.Open),
                                        pixmap.SP_DirOpenIcon, "Open a project folder")
        self.demo_action = self._action("Open the &Demo Project", self.open_demo, "",
                                        None, "Open the bundled sample Flask project")
        self.close_project_action = self._action("&Close Project", self.close_project,
                                                 "Ctrl+W", None, "Back to the welcome page")
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        self.rescan_action = self._action("&Rescan", self.rescan, "F5",
                                          pixmap.SP_BrowserReload, "Scan the project again")
        self.cancel_action = self._action("&Cancel Scan", self.cancel_scan, "Esc",
                                          pixmap.SP_BrowserStop, "Stop the scan under way")
        self.next_action = self._action("&Next Needing Attention", self.next_needing_attention,
                                        "F8", pixmap.SP_ArrowForward,
                                        "Go to the next item that is unmet, unknown or needs "
                                        "re-review")
        self.met_action = self._action("Answer &Met", lambda: self.quick_answer(AnswerValue.MET),
                                       "Ctrl+1", None, "Answer the selected item met")
        self.unmet_action = self._action("Answer &Unmet",
                                         lambda: self.quick_answer(AnswerValue.UNMET),
                                         "Ctrl+2", None, "Answer the selected item unmet")
        self.na_action = self._action("Answer N/&A", lambda: self.quick_answer(AnswerValue.NA),
                                      "Ctrl+3", None, "Answer the selected item not applicable")
        self.save_action = self._action("&Save Answer", self.submit_answer, "Ctrl+S", None,
                                        "Save the answer in the details pane")
        self.search_action = self._action("&Search", self.items.focus_search,
                                          QKeySequence(QKeySequence.StandardKey.Find))
        self.cycle_action = self._action("Next &Pane", self.focus_next_pane, "F6")
        self.filter_actions: dict[Filter, QAction] = {}
        for number, filter_ in enumerate(Filter, start=1):
            action = self._action(FILTER_MENU_TEXT[filter_],
                                  self._filter_setter(filter_), f"Alt+{number}")
            self.filter_actions[filter_] = action
        self.about_action = self._action("&About Flask Checklist", self.about)
        self.export_action = self._action("&Export Report…", self.open_export_dialog, "Ctrl+E",
                                          None, "Export the report as HTML, Markdown, PDF, "
                                          "JSON, SARIF or CSV")
        self.export_answers_action = self._action(
            "E&xport Answers…", self.choose_answers_export, "", None,
            f"Write the answers to a file to share with the team ({ANSWERS_FILE})")
        self.import_answers_action = self._action(
            "&Import Answers…", self.choose_answers_import, "", None,
            "Read a shared answers file; each answer is proposed, for you to accept or reject")
        self.proposals_action = self._action("&Proposed Answers…", self.show_proposals, "",
                                             None, "The imported answers waiting for a decision")
        self.reviews_action = self.review_dock.toggleViewAction()
        self.reviews_action.setText("&Reviews and Progress")
        self.reviews_action.setShortcut(QKeySequence("Ctrl+R"))
        self.reviews_action.setStatusTip("Release reviews, comparisons and progress over time")

    def _filter_setter(self, filter_: Filter) -> Callable[[], None]:
        return lambda: self.items.set_filter(filter_)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.close_project_action)
        file_menu.addAction(self.quit_action)
        project_menu = bar.addMenu("&Project")
        project_menu.addAction(self.rescan_action)
        project_menu.addAction(self.cancel_action)
        project_menu.addSeparator()
        project_menu.addAction(self.reviews_action)
        project_menu.addSeparator()
        project_menu.addAction(self.export_answers_action)
        project_menu.addAction(self.import_answers_action)
        project_menu.addAction(self.proposals_action)
        item_menu = bar.addMenu("&Item")
        for action in (self.next_action, self.met_action, self.unmet_action, self.na_action,
                       self.save_action):
            item_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.search_action)
        view_menu.addAction(self.cycle_action)
        view_menu.addAction(self.reviews_action)
        view_menu.addSeparator()
        for action in self.filter_actions.values():
            view_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main toolbar")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.rescan_action)
        toolbar.addAction(self.cancel_action)
        toolbar.addSeparator()
        toolbar.addAction(self.next_action)
        toolbar.addSeparator()
        for action, badge_ in ((self.met_action, Badge.MET), (self.unmet_action, Badge.UNMET),
                               (self.na_action, Badge.NA)):
            action.setIcon(self.icons.badge(badge_))
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.scan_label = QLabel()
        self.scan_label.setTextFormat(Qt.TextFormat.PlainText)
        self.scan_bar = QProgressBar()
        self.scan_bar.setMaximumWidth(220)
        self.scan_bar.setTextVisible(True)
        self.scan_bar.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(self.cancel_action)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.cancel_button.hide()
        status.addPermanentWidget(self.scan_label)
        status.addPermanentWidget(self.scan_bar)
        status.addPermanentWidget(self.cancel_button)

    def _restore_window(self) -> None:
        geometry = self.settings.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(self._default_size())
        state = self.settings.state
        if state is not None:
            self.restoreState(state)
        splitter = self.settings.splitter
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def _default_size(self) -> QSize:
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        width, height = 1280, 800
        if screen is not None:
            width = min(width, round(screen.width() * 0.9))
            height = min(height, round(screen.height() * 0.9))
        return QSize(width, height)

    # --- starting -------------------------------------------------------------------------

    def start(self, path: Path | None = None, demo: bool = False) -> None:
        """Open the workspace, then the demo, `path`, the last project or the welcome page."""
        try:
            self.workspace = self._connect()
        except Exception as error:  # noqa: BLE001 - the store cannot open: say why
            self.welcome.show_message(f"The progress database cannot be opened: {error}")
            self._show_error(self, "Cannot open the progress database", str(error))
            self._update_actions()
            return
        # Qt, SQLAlchemy, the checklists and the detectors live as long as the app: keep them
        # out of the garbage collector's full passes, which otherwise stall the window for
        # tens of milliseconds whenever a scan's result is recorded
        gc.freeze()
        self._refresh_recent()
        self._update_actions()
        if demo:
            self.open_demo()
        elif path is not None:
            self.open_project(path)
        else:
            last = self.settings.last_project
            if last is not None and last.is_dir():
                self.open_project(last)

    # --- projects -------------------------------------------------------------------------

    def choose_folder(self) -> None:
        start = str(self.settings.last_project.parent) if self.settings.last_project else ""
        folder = QFileDialog.getExistingDirectory(self, "Open a project folder", start)
        if folder:
            self.open_project(Path(folder))

    def open_demo(self) -> None:
        from checklist_app.demo import DemoError, ensure_demo

        try:
            root = ensure_demo()
        except DemoError as error:
            self._show_error(self, "Cannot create the demo project", str(error))
            return
        self.open_project(root)

    def open_project(self, root: Path) -> bool:
        from checklist_app.workspace import StoreError

        workspace = self.workspace
        if workspace is None:
            self.statusBar().showMessage("The progress database is not open.", 8000)
            return False
        root = root.expanduser()
        if not root.is_dir():
            self._missing_project(root)
            return False
        try:
            record = workspace.open_project(root)
            progress = workspace.progress(record)
        except (OSError, StoreError) as error:  # shown; the previous project stays
            self._show_error(self, "Cannot open the project", f"{root}: {error}")
            return False
        self.scanner.drop()
        self.watcher.clear()
        self._change_pending = False
        self.project = record
        self.facts = None
        self._author = None
        self._selected = None
        self.settings.last_project = Path(record.root)
        self.setWindowTitle(f"{record.name} — Flask Checklist")
        self.banner.show_messages(())
        self.stack.setCurrentWidget(self.project_page)
        self.review_panel.set_project(workspace, record)
        self.show_progress(progress)
        self.sidebar.topics.setCurrentIndex(self.topic_model.index(0))
        self.items.set_filter(Filter.ALL)
        self.items.clear_search()
        # lay out and paint the project now, before the scan starts
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self.stack.repaint()
        self.rescan()
        return True

    def _missing_project(self, root: Path) -> None:
        from checklist_app.workspace import StoreError

        workspace = self.workspace
        known = workspace.find_project(root) if workspace is not None else None
        if known is None:
            self._show_error(self, "No such folder", f"{root} is not a folder.")
            return
        answer = QMessageBox.question(
            self, "Project folder not found",
            f"{root} no longer exists. If the project was moved or renamed, locate its new "
            "folder to keep its progress.", QMessageBox.StandardButton.Open
            | QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Open or workspace is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Locate the project folder")
        if not folder:
            return
        try:
            workspace.relink(known.root, Path(folder))
        except StoreError as error:  # e.g. the folder already has a project
            self._show_error(self, "Cannot move the project", str(error))
            return
        self.open_project(Path(folder))

    def close_project(self) -> None:
        self.scanner.drop()
        self.watcher.clear()
        self._scan_stopped()
        self.project = None
        self.progress = None
        self.facts = None
        self.settings.last_project = None
        self.review_panel.set_project(None, None)
        self.setWindowTitle("Flask Checklist")
        self._refresh_recent()
        self.stack.setCurrentWidget(self.welcome)
        self._update_actions()

    def _refresh_recent(self) -> None:
        workspace = self.workspace
        if workspace is None:
            return
        from checklist_app.workspace import StoreError

        rows = []
        try:
            records = sorted(workspace.projects(), key=lambda r: r.last_opened_at, reverse=True)
            for record in records[:RECENT_LIMIT]:
                scanned = workspace.latest_scan(record)
                tally = workspace.progress(record, scan=scanned).tally if scanned else None
                rows.append(RecentProject(record.root, record.name, tally,
                                          Path(record.root).is_dir()))
        except StoreError as error:  # the list is a convenience: say so, go on
            self.statusBar().showMessage(f"Cannot list recent projects: {error}", 8000)
        self.recent_model.set_rows(tuple(rows))

    def _fill_recent_menu(self) -> None:
        self._refresh_recent()
        self.recent_menu.clear()
        for row in range(self.recent_model.rowCount()):
            project = self.recent_model.index(row).data(RecentProjectsModel.ProjectRole)
            if not isinstance(project, RecentProject):
                continue
            state = percent_text(project.tally) if project.tally is not None else "not scanned"
            action = self.recent_menu.addAction(f"{project.name}  ({state})")
            action.setToolTip(project.root)
            action.triggered.connect(lambda _c=False, r=project.root: self.open_project(Path(r)))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No recent projects").setEnabled(False)

    # --- showing progress -----------------------------------------------------------------

    def show_progress(self, progress: Progress) -> None:
        """Show a new Progress, keeping the selected topic and item."""
        self.progress = progress
        selected = self._selected
        self.topic_model.set_rows(topic_rows(progress))
        self.item_model.set_rows(progress.items)
        project = self.project
        info = progress.project
        name = project.name if project is not None else (info.name if info else "")
        where = project.root if project is not None else (info.root if info else "")
        if info is not None and info.branch:
            where += f"\n{info.branch}"
            if info.commit:
                where += f" at {info.commit[:10]}" + (" (uncommitted changes)"
                                                      if info.dirty else "")
        self.sidebar.show_project(name, where, progress.tally)
        self._show_scan_state()
        self._update_banner()
        if selected is None or not self.items.select(selected):
            if self.items.proxy.rowCount() > 0 and self.items.selected_id() is None:
                self.items.table.selectRow(0)
        self._show_details()
        if self.review_dock.isVisible():
            self.review_panel.refresh()
        self._update_actions()

    def _show_scan_state(self) -> None:
        scan = self.progress.scan if self.progress is not None else None
        if scan is None:
            self.scan_label.setText("not scanned yet")
            self.scan_label.setToolTip("")
            return
        self.scan_label.setText(f"scanned {when_text(scan.scanned_at)} "
                                f"in {scan.duration_s:.1f} s")
        notes = "\n".join(f"{note.path}: {note.message}" if note.path else note.message
                          for note in scan.notes[:30])
        self.scan_label.setToolTip(notes or "nothing was skipped")

    def _update_banner(self) -> None:
        problems = len(self.workspace.checklists.problems) if self.workspace is not None else 0
        self.banner.show_messages(banner_messages(self.progress, self.facts, problems))

    def _topic_changed(self) -> None:
        topic = self.sidebar.topics.currentIndex().data(TopicModel.TopicRole)
        self.items.set_topic(topic if isinstance(topic, str) else None)

    def _item_changed(self, item_id: object) -> None:
        self._selected = item_id if isinstance(item_id, str) else None
        self._show_details()

    def _show_details(self) -> None:
        progress = self.progress
        entry = progress.item(self._selected) if progress is not None and self._selected \
            else None
        history: tuple[HistoryLine, ...] = ()
        if entry is not None and self.workspace is not None and self.project is not None:
            from checklist_app.workspace import StoreError

            try:
                history = history_lines(self.workspace.history(self.project, entry.item.id))
            except StoreError as error:  # the pane still shows the item
                self.statusBar().showMessage(f"Cannot read the answer history: {error}", 8000)
        self.details.show_entry(entry, history)
        self._update_actions()

    # --- scanning -------------------------------------------------------------------------

    def rescan(self) -> None:
        project, workspace = self.project, self.workspace
        if project is None or workspace is None:
            return
        self.scanner.start(ScanJob(Path(project.root), workspace.checklists,
                                   workspace.cache_dir))
        self.scan_bar.setRange(0, 0)
        self.scan_bar.setFormat("scanning…")
        self.scan_bar.show()
        self.cancel_button.show()
        self.statusBar().showMessage("Scanning…")
        self._update_actions()

    def cancel_scan(self) -> None:
        if self.scanner.running:
            self.scanner.cancel()
            self.statusBar().showMessage("Cancelling the scan…")

    def _scan_progressed(self, done: int, total: int, item_id: str) -> None:
        self.scan_bar.setRange(0, total)
        self.scan_bar.setValue(done)
        self.scan_bar.setFormat(f"{done}/{total}")
        self.statusBar().showMessage(f"Scanning… {item_id}")

    def _scan_stopped(self) -> None:
        self.scan_bar.hide()
        self.cancel_button.hide()
        self._update_actions()

    def _scan_finished(self, done: ScanDone) -> None:
        self._scan_stopped()
        project, workspace = self.project, self.workspace
        if project is None or workspace is None or done.root != Path(project.root):
            return
        if done.error is not None:
            self.statusBar().showMessage(f"The scan failed: {done.error}", 15000)
            self.banner.show_messages(self.banner.messages + (
                f"The scan failed: {done.error}. Press F5 to try again.",))
            self._then_pending()
            return
        from checklist_app.workspace import StoreError

        result = done.result
        if done.cancelled or result is None or result.cancelled:
            self.statusBar().showMessage("Scan cancelled: showing the previous results.", 8000)
            self._then_pending()
            return
        try:
            workspace.record_scan(project, result)
            progress = workspace.progress(project, scan=result)
        except StoreError as error:  # the store failed: say so, keep going
            self._show_error(self, "Cannot save the scan", str(error))
            return
        self.facts = done.facts
        self.show_progress(progress)
        if done.facts is not None:  # on the next turn of the event loop: paint first
            paths, root = done.facts.watch_paths, project.root
            QTimer.singleShot(0, lambda: self._watch(root, paths))
        self.statusBar().showMessage(
            f"Scanned in {result.duration_s:.1f} s: {percent_text(progress.tally)} complete.",
            8000)
        self._then_pending()

    def _watch(self, root: str, paths: tuple[str, ...]) -> None:
        if self.project is not None and self.project.root == root:
            self.watcher.watch(paths)

    def _then_pending(self) -> None:
        if self._change_pending:
            self._change_pending = False
            self.rescan()

    def _files_changed(self) -> None:
        if self.scanner.running:
            self._change_pending = True
        else:
            self.rescan()

    # --- answering ------------------------------------------------------------------------

    def quick_answer(self, value: AnswerValue) -> None:
        """Choose `value` for the selected item and save it when nothing more is needed;
        otherwise put the cursor where the justification goes."""
        form = self.details.answer
        if form.entry is None:
            return
        form.choose(value)
        if form.try_submit():
            return
        problem = form.save_problem()
        self.statusBar().showMessage(f"Cannot save yet: {problem}", 8000)
        form.justification.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def submit_answer(self) -> None:
        form = self.details.answer
        if not form.try_submit():
            problem = form.save_problem()
            if problem:
                self.statusBar().showMessage(f"Cannot save: {problem}", 8000)

    def save_answer(self, request: AnswerRequest) -> None:
        workspace, project = self.workspace, self.project
        if workspace is None or project is None:
            return
        from checklist_app.workspace import AnswerRefused, StoreError, default_author

        if self._author is None:
            self._author = default_author(Path(project.root))
        try:
            saved = workspace.answer(
                project, request.item_id, request.value, author=self._author,
                note=request.note, justification=request.justification,
                expected_revision=request.expected_revision)
        except AnswerRefused as refusal:
            self.statusBar().showMessage(f"Not saved: {refusal}", 10000)
            return
        except StoreError as error:  # a conflict (someone else answered) or the store failed
            self._show_error(self, "The answer was not saved", str(error))
            self._reload()
            return
        self._reload()
        self.statusBar().showMessage(
            f"Saved: {saved.item_id} answered {ANSWER_WORDS[saved.value]}.", 6000)

    def _reload(self) -> None:
        workspace, project = self.workspace, self.project
        if workspace is None or project is None:
            return
        from checklist_app.workspace import StoreError

        scan = self.progress.scan if self.progress is not None else None
        try:
            progress = workspace.progress(project, scan=scan)
        except StoreError as error:
            self._show_error(self, "Cannot read the progress", str(error))
            return
        self.details.reset()  # the stored answer replaces the form
        self.show_progress(progress)

    def next_needing_attention(self) -> None:
        progress = self.progress
        if progress is None:
            return
        visible = self.items.proxy.visible_items()
        found = next_needing_attention(visible, self._selected)
        if found is None:
            found = next_needing_attention(list(progress.items), self._selected)
            if found is None:
                self.statusBar().showMessage("No item needs attention.", 6000)
                return
            self.sidebar.topics.setCurrentIndex(self.topic_model.index(0))
            self.items.set_filter(Filter.ALL)
            self.items.clear_search()
        self.items.select(found)
        self.items.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- reviews, reports and shared answers -----------------------------------------------

    def _review_dock_shown(self, visible: bool) -> None:
        if visible and self.project is not None:
            self.review_panel.refresh()

    def show_reviews(self) -> None:
        self.review_dock.show()
        self.review_dock.raise_()
        if self.review_dock.width() < REVIEW_DOCK_WIDTH:
            self.resizeDocks([self.review_dock], [min(REVIEW_DOCK_WIDTH, self.width() // 3)],
                             Qt.Orientation.Horizontal)

    def open_export_dialog(self) -> ExportDialog | None:
        """Show File > Export… (window-modal, without blocking); the dialog."""
        workspace, project = self.workspace, self.project
        if workspace is None or project is None:
            return None
        from checklist_app.gui.export_dialog import ExportDialog

        folder = self.settings.last_project or Path(project.root)
        dialog = ExportDialog(workspace, project, Path(project.root).parent
                              if folder == Path(project.root) else folder,
                              show=self._show_error, parent=self)
        dialog.exported.connect(
            lambda path: self.statusBar().showMessage(f"Exported {path}.", 8000))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def _answers_author(self) -> str:
        if self._author is None and self.project is not None:
            from checklist_app.workspace import default_author

            self._author = default_author(Path(self.project.root))
        return self._author or "unknown"

    def choose_answers_export(self) -> None:
        if self.project is None:
            return
        target, _filter = QFileDialog.getSaveFileName(
            self, "Export the answers", str(Path(self.project.root) / ANSWERS_FILE),
            "Answers file (*.yaml *.yml);;All files (*)")
        if target:
            self.export_answers_to(Path(target))

    def export_answers_to(self, path: Path) -> bool:
        """Write the project's answers to `path`; says what was left out."""
        workspace, project = self.workspace, self.project
        if workspace is None or project is None:
            return False
        from checklist_app.workspace import StoreError

        try:
            text, left_out = workspace.export_answers(project)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            self._show_error(self, "The answers were not exported",
                             f"{path}: {error.strerror or error}")
            return False
        except StoreError as error:
            self._show_error(self, "The answers were not exported", str(error))
            return False
        message = f"Wrote the answers to {path}."
        if left_out:
            message += (f" Left out {len(left_out)} answer(s) to items no checklist has: "
                        + ", ".join(a.item_id for a in left_out))
        self.statusBar().showMessage(message, 10000)
        return True

    def choose_answers_import(self) -> None:
        if self.project is None:
            return
        source, _filter = QFileDialog.getOpenFileName(
            self, "Import shared answers", str(Path(self.project.root) / ANSWERS_FILE),
            "Answers file (*.yaml *.yml);;All files (*)")
        if source:
            self.import_answers_from(Path(source))

    def import_answers_from(self, path: Path) -> ProposalsDialog | None:
        """Record the answers in `path` as proposals and show them; a file that cannot be read
        or is refused shows why (file, line, field) and records nothing."""
        workspace, project = self.workspace, self.project
        if workspace is None or project is None:
            return None
        from checklist_app.answers_file import AnswersFileError
        from checklist_app.workspace import StoreError

        try:
            data = read_limited(path)
            result = workspace.import_answers(project, data, str(path), self._answers_author())
        except OSError as error:
            self._show_error(self, "The answers were not imported",
                             f"{path}: {error.strerror or error}")
            return None
        except AnswersFileError as error:
            self._show_error(self, "The answers were not imported",
                             f"{error}\n\nNothing was changed.")
            return None
        except StoreError as error:
            self._show_error(self, "The answers were not imported", str(error))
            return None
        self.statusBar().showMessage(
            f"{len(result.proposed)} proposal(s) recorded, {len(result.unchanged)} already "
            f"answered the same, {len(result.already_proposed)} already proposed.", 10000)
        return self.show_proposals()

    def show_proposals(self) -> ProposalsDialog | None:
        workspace, project = self.workspace, self.project
        if workspace is None or project is None:
            return None
        if self.proposals_dialog is not None:
            self.proposals_dialog.close()
        dialog = ProposalsDialog(workspace, project, self._answers_author(),
                                 show=self._show_error, confirm=self._confirm, parent=self)
        dialog.answers_changed.connect(self._reload)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._proposals_closed)
        self.proposals_dialog = dialog
        dialog.show()
        return dialog

    def _proposals_closed(self) -> None:
        self.proposals_dialog = None

    # --- evidence and links ---------------------------------------------------------------

    def open_evidence(self, evidence: Evidence) -> None:
        project = self.project
        if project is None:
            return
        target = project_file(Path(project.root), evidence.path)
        if target is None:
            where = f" (commit {evidence.commit[:10]})" if evidence.commit else ""
            self.statusBar().showMessage(
                f"{evidence.path}{where} is not a file in the project folder.", 8000)
            return
        command = editor_command(self._environ, str(target), evidence.line)
        if command is not None:
            if not self._launcher(command):
                self.statusBar().showMessage(f"Could not start {command[0]}.", 8000)
            return
        if not safe_for_system_handler(target):
            self.statusBar().showMessage(
                f"Set $VISUAL or $EDITOR to open {evidence.path} (not opened with the system "
                "handler: it may not be plain text).", 10000)
            return
        if not self._open_url(QUrl.fromLocalFile(str(target))):
            self.statusBar().showMessage(f"No application opens {evidence.path}.", 8000)

    def open_link(self, url: str) -> None:
        link = QUrl(url)
        if link.scheme().lower() not in SAFE_LINK_SCHEMES:
            self.statusBar().showMessage(f"Not opened: {url} is not a web address.", 8000)
            return
        if not self._open_url(link):
            self.statusBar().showMessage(f"Could not open {url}.", 8000)

    # --- keyboard and window ----------------------------------------------------------------

    def focus_next_pane(self) -> None:
        panes: list[QWidget] = [self.sidebar.topics, self.items.table, self.details]
        focused = QApplication.focusWidget()
        position = -1
        for number, pane in enumerate(panes):
            if focused is not None and (focused is pane or pane.isAncestorOf(focused)):
                position = number
        target = panes[(position + 1) % len(panes)]
        if target is self.details:
            self.details.answer.met.setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _update_actions(self) -> None:
        has_project = self.project is not None
        scanning = self.scanner.running
        selected = self.details.entry is not None
        self.rescan_action.setEnabled(has_project and self.workspace is not None)
        self.cancel_action.setEnabled(scanning)
        self.close_project_action.setEnabled(has_project)
        self.next_action.setEnabled(has_project)
        for action in (self.met_action, self.unmet_action, self.na_action, self.save_action):
            action.setEnabled(has_project and selected)
        if selected and self.details.entry is not None:
            self.na_action.setEnabled(self.details.entry.item.na_allowed)
        self.open_action.setEnabled(self.workspace is not None)
        self.demo_action.setEnabled(self.workspace is not None)
        self.welcome.open_button.setEnabled(self.workspace is not None)
        self.welcome.demo_button.setEnabled(self.workspace is not None)
        for action in (self.export_action, self.export_answers_action,
                       self.import_answers_action, self.proposals_action):
            action.setEnabled(has_project and self.workspace is not None)

    def about(self) -> None:
        QMessageBox.about(self, "About Flask Checklist",
                          f"Flask Checklist {__version__}\n\nCheck a Flask project against "
                          "best-practice checklists, with evidence, and track progress.")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self.icons = StatusIcons(QApplication.palette(), self.devicePixelRatioF())
            self.item_model.set_icons(self.icons)
            self.details.set_icons(self.icons)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_folder(event.mimeData().urls() if event.mimeData().hasUrls() else []):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folder = dropped_folder(event.mimeData().urls() if event.mimeData().hasUrls() else [])
        if folder is not None:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.open_project(folder))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.save_window(self.saveGeometry(), self.saveState(),
                                  self.splitter.saveState())
        self.settings.sync()
        self.watcher.clear()
        self.scanner.shutdown()
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None
        event.accept()

    def window_icon(self) -> QIcon:
        return self.icons.badge(Badge.MET)


def dropped_folder(urls: list[QUrl]) -> Path | None:
    """The one local folder dropped, or None."""
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.is_dir() else None
