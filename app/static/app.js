// mapctl app: row selection, search progress (rows appended as they arrive, live countdowns),
// Copy buttons, the Clients filter, and the keyboard path (Esc cancels, focus kept).
// Plain JavaScript, no library; loaded from the app itself (the CSP allows no inline script).
"use strict";

function submitFor(form) {
  return (form.id && document.querySelector('[data-pick-submit][form="' + form.id + '"]')) ||
    form.querySelector("[data-pick-submit]");
}

function setupPick(form) {
  const table = form.querySelector("table[role=grid]");
  const value = form.querySelector("[data-pick-value]");
  const submit = submitFor(form);
  if (!table || !value || !submit) return;
  const opens = form.hasAttribute("data-pick-opens");

  function rows() {
    return Array.from(table.querySelectorAll("tbody tr"));
  }

  function select(row, focus) {
    rows().forEach((r) => {
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

  function wire(row) {
    row.addEventListener("click", () => select(row, true));
    if (opens) row.addEventListener("dblclick", () => open(row));
    row.addEventListener("keydown", (event) => {
      const all = rows();
      const index = all.indexOf(row);
      let next = null;
      if (event.key === "ArrowDown") next = all[Math.min(index + 1, all.length - 1)];
      else if (event.key === "ArrowUp") next = all[Math.max(index - 1, 0)];
      else if (event.key === "Home") next = all[0];
      else if (event.key === "End") next = all[all.length - 1];
      else if (event.key === " ") next = row;
      else if (event.key === "Enter") {
        // a matter: Enter opens it at once; a contact: Enter selects it and goes to Remove
        event.preventDefault();
        if (opens) open(row);
        else {
          select(row, false);
          if (!submit.disabled) submit.focus();
          else row.focus();
        }
        return;
      }
      if (next) {
        event.preventDefault();
        select(next, true);
      }
    });
  }

  rows().forEach(wire);
  form.pickWire = wire; // rows appended later (a search still loading) are wired too
  const initial = form.dataset.pickInitial;
  if (initial) {
    const row = rows().find((r) => r.dataset.value === initial);
    if (row) {
      select(row, true);
      row.scrollIntoView({ block: "center" });
    }
  }
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text || "";
  return td;
}

function appendRows(list) {
  const form = document.querySelector("form[data-pick-opens]");
  const body = form && form.querySelector("tbody");
  if (!body) return;
  list.forEach((m) => {
    const tr = document.createElement("tr");
    tr.setAttribute("aria-selected", "false");
    tr.tabIndex = body.children.length === 0 ? 0 : -1;
    tr.dataset.value = String(m.id);
    const first = cell(m.display_number);
    if (m.imported) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = m.imported;
      first.append(" ", badge);
    }
    tr.append(first, cell(m.description), cell(m.client_name), cell(m.status), cell(m.open_date));
    body.append(tr);
    if (form.pickWire) form.pickWire(tr);
  });
}

function countdownText(seconds) {
  return "Clio asked mapctl to wait: it limits how often it may be asked. Going on in " +
    seconds + " s…";
}

function setupCountdown(box) {
  const out = box.querySelector(".countdown");
  if (!out) return () => {};
  let until = null;
  function tick() {
    if (until === null) {
      out.textContent = "";
      return;
    }
    const left = Math.max(0, Math.round((until - Date.now()) / 1000));
    out.textContent = countdownText(left);
  }
  window.setInterval(tick, 250);
  const first = out.dataset.wait;
  if (first !== "" && first !== undefined) until = Date.now() + Number(first) * 1000;
  tick();
  return (seconds) => {
    until = seconds === null || seconds === undefined ? null : Date.now() + seconds * 1000;
    tick();
  };
}

function setupTimeLeft(box) {
  // How long mapctl still waits for Clio before it gives up (Connect, who is connected)
  const out = box.querySelector(".time-left");
  if (!out) return () => {};
  let until = Date.now() + Number(out.dataset.left || "0") * 1000;
  function tick() {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    out.textContent = "Waiting for Clio's answer: at most " + left + " s more.";
  }
  window.setInterval(tick, 250);
  tick();
  return (seconds) => {
    if (seconds === null || seconds === undefined) return;
    until = Date.now() + seconds * 1000;
    tick();
  };
}

function setupProgress(box) {
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text");
  const setWait = setupCountdown(box);
  const setLeft = setupTimeLeft(box);
  let since = Number(box.dataset.since || "0");
  async function poll() {
    try {
      const url = box.dataset.progress + (box.dataset.progress.includes("?") ? "&" : "?") +
        "since=" + since;
      const response = await fetch(url, { credentials: "same-origin" });
      const state = await response.json();
      if (state.rows && state.rows.length) {
        appendRows(state.rows);
        since += state.rows.length;
      }
      setWait(state.wait);
      setLeft(state.left);
      if (state.done) {
        window.location.reload();
        return;
      }
      if (state.matters !== undefined) {
        const most = Number(box.dataset.shownMax || "1000");
        const n = (x) => Number(x).toLocaleString("en-US");
        if (state.total && state.total > most) {
          text.textContent = "Loading the first " + n(most) + " of " + n(state.total) +
            " matters from Clio: " + n(Math.min(state.matters, most)) + " so far…";
        } else {
          const of = state.total ? " of " + n(state.total) : "";
          text.textContent = "Loading matters from Clio: " + n(state.matters) + of + " so far…";
        }
        if (bar && state.total) {
          bar.max = Math.min(state.total, most);
          bar.value = Math.min(state.matters, most);
        }
      }
    } catch (error) {
      text.textContent = "Still waiting… (mapctl did not answer just now; trying again)";
    }
    window.setTimeout(poll, 300);
  }
  window.setTimeout(poll, 150);
}

function setupCopy(button) {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    const text = source.value !== undefined ? source.value : source.textContent;
    const said = button.parentElement.querySelector(".copied") ||
      document.querySelector(".copied");
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      if (source.select) source.select(); // no clipboard access: selected, for Ctrl+C
      else window.getSelection().selectAllChildren(source);
      document.execCommand("copy");
    }
    if (said) said.textContent = "Copied: " + (button.textContent.replace(/^Copy /, ""));
  });
}

// What a row says, without its actions (links, buttons, forms: "Download", "Open in Clio",
// "Write the note again"), so that the filter matches the clients, not the words on buttons.
function rowText(row) {
  const copy = row.cloneNode(true);
  copy.querySelectorAll("a, button, form").forEach((action) => action.remove());
  return copy.textContent.toLowerCase();
}

function setupFilter(input) {
  const table = document.getElementById(input.dataset.filter);
  const count = input.parentElement.querySelector("[data-filter-count]");
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    const rows = Array.from(table.querySelectorAll("tbody tr"));
    rows.forEach((row) => {
      const text = rowText(row);
      const keep = words.every((w) => text.includes(w));
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    count.textContent = words.length ? shown + " of " + rows.length + " shown" : "";
  });
}

function restoreFocus() {
  const form = document.querySelector("[data-focus]");
  const target = form && form.dataset.focus;
  if (target) {
    let element = null;
    if (target === "undo") element = document.querySelector('[data-focus-target="undo"]');
    else element = document.getElementById(target);
    if (element) {
      if (element.tagName === "TR") element.click();
      element.focus();
      element.scrollIntoView({ block: "center" });
      return;
    }
  }
  const params = new URLSearchParams(window.location.search);
  const sorted = document.querySelector("th[aria-sort=ascending] a, th[aria-sort=descending] a");
  if (sorted && params.has("sort") && !params.has("pick")) sorted.focus(); // after a sort
  const first = document.querySelector("[data-autofocus]");
  if (first) first.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  const cancel = document.querySelector("[data-cancel]");
  if (cancel) {
    event.preventDefault();
    window.location.assign(cancel.href);
  }
});

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-pick]").forEach(setupPick);
  document.querySelectorAll("[data-progress]").forEach(setupProgress);
  document.querySelectorAll("[data-copy]").forEach(setupCopy);
  document.querySelectorAll("[data-filter]").forEach(setupFilter);
  restoreFocus();
  document.body.dataset.ready = "true"; // the rows answer clicks and keys from now on
});
