"""The main window: its layout and binding, its actions and menus, and its file dialogs."""
