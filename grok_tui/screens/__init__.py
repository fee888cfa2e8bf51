"""Screens of the explorer: live training, and the screens for saved runs."""
