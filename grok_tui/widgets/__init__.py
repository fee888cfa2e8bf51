"""Widgets of the explorer: metrics charts, the alignment heatmap and the status bar."""
