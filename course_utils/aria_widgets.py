"""Two small widgets for what ipywidgets cannot say to a screen reader: a named option group and
a status line.

ipywidgets' ``RadioButtons`` draws bare ``<label><input type=radio>`` pairs: no group, no name
for it, not even a shared ``name`` attribute, so a screen reader hears options without their
question and the arrow keys do not move between them. An ``HTML`` widget re-creates its content
on every change, so a ``role="status"`` inside it is a new live region each time, which screen
readers may not read out (a region must be on the page before its text changes).

``ChoiceGroup`` draws the question and its options as native radios (or checkboxes) in one
``role="radiogroup"`` (or ``"group"``) whose ``aria-labelledby`` is the question: Tab enters the
group, the arrow keys choose, as everywhere else. ``StatusLine`` keeps one ``role="status"``
region and changes only its content. Both are anywidget modules: a few lines of JavaScript kept
here, no build step, and they run in JupyterLab and in JupyterLite alike.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

__all__ = ["ChoiceGroup", "StatusLine"]

_CHOICE_ESM = """
function render({ model, el }) {
  // unique on the page (the label's id, the radios' name): each widget loads its own copy of
  // this module, so a counter here would start again at 1 for every group
  const id = `course-choice-${Math.random().toString(36).slice(2)}`;
  const label = Object.assign(document.createElement("div"), {
    id: `${id}-label`, className: "course-choice-label",
  });
  const group = Object.assign(document.createElement("div"), {
    className: "course-choice-options",
  });
  group.setAttribute("aria-labelledby", label.id);
  el.classList.add("course-choice");
  el.append(label, group);

  const mark = () => {
    const value = model.get("value");
    for (const box of group.querySelectorAll("input")) {
      box.checked = value.includes(Number(box.value));
    }
  };
  const draw = () => {
    const multiple = model.get("multiple");
    label.textContent = model.get("label");
    group.setAttribute("role", multiple ? "group" : "radiogroup");
    group.replaceChildren(...model.get("options").map((text, i) => {
      const box = Object.assign(document.createElement("input"), {
        type: multiple ? "checkbox" : "radio", name: id, value: String(i),
      });
      box.addEventListener("change", () => {
        const picked = [...group.querySelectorAll("input:checked")].map((b) => Number(b.value));
        model.send({ picked });  // a message: in order with a button click (see ChoiceGroup)
      });
      const option = document.createElement("label");
      option.append(box, text);
      return option;
    }));
    mark();
  };
  // The browser moves between radios with the arrow keys; JupyterLab would move between cells.
  group.addEventListener("keydown", (event) => {
    if (event.key.startsWith("Arrow")) event.stopPropagation();
  });
  for (const name of ["label", "options", "multiple"]) model.on(`change:${name}`, draw);
  model.on("change:value", mark);
  draw();
}

export default { render };
"""

_CHOICE_CSS = """
.course-choice {
  margin: 0 var(--jp-widgets-margin, 2px);
  color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size1);
}
.course-choice-label { font-weight: bold; margin: 4px 0; }
.course-choice-options { display: flex; flex-direction: column; gap: 4px; }
.course-choice-options label { display: flex; align-items: center; gap: 6px; cursor: pointer; }
.course-choice-options input { margin: 0; accent-color: var(--jp-brand-color1); }
.course-choice-options input:focus-visible {
  outline: 2px solid var(--jp-brand-color1); outline-offset: 2px;
}
"""

_STATUS_ESM = """
function render({ model, el }) {
  const region = document.createElement("div");
  region.setAttribute("role", "status");  // polite: read out when the learner pauses
  region.setAttribute("aria-live", "polite");
  region.className = "course-status";
  el.append(region);
  const show = () => { region.innerHTML = model.get("value"); };
  model.on("change:value", show);
  show();
}

export default { render };
"""

_STATUS_CSS = """
.course-status { color: var(--jp-ui-font-color1); }
.course-status:not(:empty) { margin-bottom: 6px; }
"""


class ChoiceGroup(anywidget.AnyWidget):
    """A question's options as one group named by the question; ``value`` holds the indexes of
    the ticked options (at most one unless ``multiple``).

    The browser sends a pick as a message ``{"picked": [...]}``, not as a state update:
    ipywidgets holds a state update back while another is on its way, but sends a button's
    click at once, so a quick arrow key then Check was graded on the option before (seen in the
    browser suite). Messages reach the kernel in the order they were sent.
    """

    _esm = _CHOICE_ESM
    _css = _CHOICE_CSS
    label = traitlets.Unicode("").tag(sync=True)
    options = traitlets.List(traitlets.Unicode()).tag(sync=True)
    multiple = traitlets.Bool(False).tag(sync=True)
    value = traitlets.List(traitlets.Int()).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_msg(self._picked)

    def _picked(self, _widget: object, content: Any, _buffers: object) -> None:
        if isinstance(content, dict) and "picked" in content:
            self.value = content["picked"]

    @traitlets.validate("value")
    def _valid_value(self, proposal: Any) -> list[int]:
        picked = list(proposal["value"])
        outside = [i for i in picked if not 0 <= i < len(self.options)]
        if outside:
            raise traitlets.TraitError(
                f"{self.label!r} has {len(self.options)} options (0 to "
                f"{len(self.options) - 1}); there is no option {outside[0]}"
            )
        if len(picked) > 1 and not self.multiple:
            raise traitlets.TraitError(f"{self.label!r} takes one option, not {picked}")
        return sorted(set(picked))


class StatusLine(anywidget.AnyWidget):
    """A live region that stays on the page: setting ``value`` (HTML the course has escaped)
    changes its content, which a screen reader reads out."""

    _esm = _STATUS_ESM
    _css = _STATUS_CSS
    value = traitlets.Unicode("").tag(sync=True)
