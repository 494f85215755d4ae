// mapctl app: row selection in the Search and Preview tables, and search progress.
// Plain JavaScript, no library; loaded from the app itself (the CSP allows no inline script).
"use strict";

function setupPick(form) {
  const table = form.querySelector("table[role=grid]");
  const value = form.querySelector("[data-pick-value]");
  const submit = form.querySelector("[data-pick-submit]");
  if (!table || !value || !submit) return;
  const rows = Array.from(table.querySelectorAll("tbody tr"));

  function select(row, focus) {
    rows.forEach((r) => {
      r.setAttribute("aria-selected", r === row ? "true" : "false");
      r.tabIndex = r === row ? 0 : -1;
    });
    value.value = row.dataset.value;
    submit.disabled = row.hasAttribute("data-fixed");
    if (focus) row.focus();
  }

  function open(row) {
    select(row, false);
    if (!submit.disabled) form.requestSubmit(submit);
  }

  rows.forEach((row, index) => {
    row.addEventListener("click", () => select(row, true));
    if (form.hasAttribute("data-pick-opens")) {
      row.addEventListener("dblclick", () => open(row));
    }
    row.addEventListener("keydown", (event) => {
      let next = null;
      if (event.key === "ArrowDown") next = rows[Math.min(index + 1, rows.length - 1)];
      else if (event.key === "ArrowUp") next = rows[Math.max(index - 1, 0)];
      else if (event.key === "Home") next = rows[0];
      else if (event.key === "End") next = rows[rows.length - 1];
      else if (event.key === " ") next = row;
      else if (event.key === "Enter") {
        // Enter opens a matter; in the contacts list it only selects (removing takes the button)
        event.preventDefault();
        const opens = form.hasAttribute("data-pick-opens");
        if (opens && row.getAttribute("aria-selected") === "true") open(row);
        else select(row, true);
        return;
      }
      if (next) {
        event.preventDefault();
        select(next, true);
      }
    });
  });
}

function setupProgress(box) {
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text");
  async function poll() {
    try {
      const response = await fetch(box.dataset.progress, { credentials: "same-origin" });
      const state = await response.json();
      if (state.done) {
        window.location.reload();
        return;
      }
      const of = state.total ? " of " + state.total : "";
      text.textContent = state.waiting
        ? state.waiting
        : "Loading matters from Clio: page " + (state.pages + 1) + ", " + state.matters + of +
          " matters so far…";
      if (bar && state.total) {
        bar.max = state.total;
        bar.value = state.matters;
      }
    } catch (error) {
      text.textContent = "Still loading… (the app did not answer; retrying)";
    }
    window.setTimeout(poll, 250);
  }
  window.setTimeout(poll, 150);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-pick]").forEach(setupPick);
  document.querySelectorAll("[data-progress]").forEach(setupProgress);
  document.body.dataset.ready = "true"; // the rows answer clicks and keys from now on
});
