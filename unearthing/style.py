"""The publication's chart style: readable at print size, colour-blind safe
(Okabe-Ito), every chart carries its source line."""

from __future__ import annotations

import matplotlib.pyplot as plt

# Okabe-Ito palette; contrast of the two main colours on white >= 3:1.
BLUE = "#0072B2"
VERMILION = "#D55E00"
GREY = "#6E6E6E"
LIGHT = "#EDEDED"


def apply() -> None:
    plt.rcParams.update({
        "font.family": "DejaVu Sans",
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "figure.dpi": 100,
    })


def source_line(fig, text: str) -> None:
    fig.text(0.01, 0.005, text, ha="left", va="bottom", fontsize=8, color=GREY, wrap=True)
