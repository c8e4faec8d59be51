"""The figures leave the user's matplotlib backend alone: importing or using a plot module
selects no backend (a notebook keeps its own) and leaves no figure open in pyplot."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "sovsim"

CODE = """
import matplotlib
matplotlib.use("svg")  # the user's choice, not Agg
import matplotlib.pyplot as plt
import sovsim.plots, sovsim.plots.bands, sovsim.research.doctrine_plot
import sovsim.uncertainty.sensitivity
import numpy as np
from sovsim.research.doctrine_plot import doctrine_figure
years = np.linspace(0, 1, 20)
fig = doctrine_figure({"historical": {"a": years}}, {"a": "axis a: text"}, {"a": "x"},
                      path=None)
doctrine_figure({"historical": {"a": years}}, {"a": "axis a: text"}, {"a": "x"},
                path=__import__("pathlib").Path(sys.argv[1]) / "d.png")
print(matplotlib.get_backend(), plt.get_fignums(), type(fig).__name__)
"""


def test_plot_modules_leave_the_backend_and_pyplot_alone(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import sys\n" + CODE, str(tmp_path)],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    assert out.split() == ["svg", "[]", "Figure"]
    assert (tmp_path / "d.png").stat().st_size > 1000


def test_no_module_selects_a_backend():
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr != "use" or not (
                    isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("matplotlib", "mpl")), f"{path}:{node.lineno}"
            if isinstance(node, ast.ImportFrom) and node.module == "matplotlib":
                assert "pyplot" not in {a.name for a in node.names}, path
            if isinstance(node, ast.Import):
                assert "matplotlib.pyplot" not in {a.name for a in node.names}, path
