"""The desktop app (PySide6): windows, Qt item models, the scan worker.

The rule of this layer: it renders `Progress` values and sends intents to `Workspace`; it never
touches the store or the scanned project directly. Qt is imported only here, and nothing outside
this package imports it (the CLI starts it lazily through `checklist_app.gui.app.run`).
"""
