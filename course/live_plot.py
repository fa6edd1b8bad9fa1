"""A loss plot that redraws in place inside Jupyter, and plain log lines everywhere else."""

from __future__ import annotations


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, classic Notebook, nbval, VS Code)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class LivePlot:
    """Shows train and validation loss against step; call :meth:`update` after each evaluation."""

    def __init__(self, title: str = "training", enabled: bool | None = None):
        self.enabled = in_notebook() if enabled is None else enabled
        self.title = title
        self._handle = None
        self._fig = None

    def update(self, history) -> None:
        if not self.enabled:
            return
        import matplotlib.pyplot as plt
        from IPython.display import display

        if self._fig is None:
            self._fig, self._ax = plt.subplots(figsize=(6.4, 3.2))
            plt.close(self._fig)  # we display it ourselves; stop Jupyter showing a second copy
        ax = self._ax
        ax.clear()
        if history.step:
            ax.plot(history.step, history.train_loss, label="train", alpha=0.6)
        if history.eval_step:
            ax.plot(history.eval_step, history.val_loss, "o-", label="validation")
        ax.set_xlabel("step")
        ax.set_ylabel("loss (nats/token)")
        ax.set_title(self.title)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right")
        self._fig.tight_layout()
        if self._handle is None:
            self._handle = display(self._fig, display_id=True)
        else:
            self._handle.update(self._fig)
