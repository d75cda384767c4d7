// The Desk (technicians and admins): the ticket queue with its tabs, search, filters,
// keyboard navigation, live updates, ticked tickets for bulk actions (desk_bulk.js), saved
// views (desk_saved.js) and the New ticket dialog (desk_new_ticket.js).

import { api } from "../api.js";
import { bulkBar } from "../desk_bulk.js";
import { newTicket } from "../desk_new_ticket.js";
import { savedViewsBar } from "../desk_saved.js";
import { h, replace } from "../dom.js";
import { ago, dateTime } from "../format.js";
import { t, tn } from "../i18n.js";
import { icon } from "../icons.js";
import { helpButton, shortcuts } from "../keys.js";
import { debounce, liveIndicator, onLive } from "../live.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import {
  KIND_LABELS, OPEN_STATUSES, STATUSES, STATUS_LABELS, kindBadge, priorityBadge, ticketStatusBadge,
} from "../tickets.js";
import { slaBadge } from "../sla.js";
import { emptyState, iconButton } from "../ui.js";

const PAGE_SIZE = 50;
const MAX_PAGE = 200; // the server's default page_size_max
const COLUMNS = ["priority", "number", "title", "requester", "assignee", "status", "sla", "updated"];
const TICK_MS = 30_000; // countdowns redraw this often
const TABS = ["my_open", "unassigned", "open", "all"]; // labels: desk.tab.<id>
const SORTS = ["-id", "priority", "due", "-updated"]; // labels: desk.sort.<value>

// What the queue shows survives leaving it for a ticket and coming back (Esc).
const DEFAULTS = { view: "my_open", q: "", status: "", priority: "", kind: "", sort: "-id", selected: null };
const remembered = { user: null, ...DEFAULTS };

/** Return the list query of a view and its filters. */
function listQuery(s) {
  const q = { q: s.q, priority: s.priority, kind: s.kind, sort: s.sort };
  // The server's views fix the statuses to the open ones; a status filter inside a view is
  // the same view spelt as plain filters.
  if (s.view === "all") q.status = s.status;
  else if (!s.status) q.view = s.view;
  else {
    q.status = s.status;
    if (s.view === "my_open") q.assignee = "me";
    if (s.view === "unassigned") q.assignee = "none"; // every group's, not only the viewer's
  }
  return q;
}

function emptyFor(view, filtered) {
  if (filtered) return emptyState("search", t("desk.empty.filtered.title"), t("desk.empty.filtered.text"));
  return emptyState(view === "all" ? "ticket" : "inbox", t(`desk.empty.${view}.title`),
    t(`desk.empty.${view}.text`));
}

/** Fill the Desk view. */
export function deskView(root, { user }) {
  if (remembered.user !== user.id) Object.assign(remembered, DEFAULTS, { user: user.id }); // another login
  const s = remembered;
  let tickets = [];
  let cursor = null;
  let generation = 0;
  let loaded = false;
  let loads = 0;
  const rows = new Map(); // ticket id -> {sig, tr}
  const fresh = new Set(); // ids that arrived live, highlighted until the next reload
  const chosen = new Set(); // ticked ids, for bulk actions (s.selected is the keyboard's row)

  // ---------- toolbar ----------
  const search = h("input", { type: "search", name: "q", placeholder: t("desk.search"), value: s.q,
    "aria-label": t("desk.search"), maxlength: 200, "aria-keyshortcuts": "/" });
  const status = h("select", { name: "status", "aria-label": t("desk.filter.status"), class: "select-status" });
  const priority = h("select", { name: "priority", "aria-label": t("desk.filter.priority"), class: "select-narrow" },
    h("option", { value: "" }, t("desk.filter.any_priority")),
    [1, 2, 3, 4, 5].map((p) => h("option", { value: String(p) }, `P${p}`)));
  const kind = h("select", { name: "kind", "aria-label": t("desk.filter.kind"), class: "select-narrow" },
    h("option", { value: "" }, t("desk.filter.any_kind")),
    Object.entries(KIND_LABELS).map(([k, label]) => h("option", { value: k }, label)));
  const sort = h("select", { name: "sort", id: "queue-sort", class: "select-sort" },
    h("option", { value: "relevance", hidden: true }, t("desk.sort.relevance")),
    SORTS.map((value) => h("option", { value }, t(`desk.sort.${value}`))));

  function fillStatuses() {
    const choices = s.view === "all" ? STATUSES : OPEN_STATUSES;
    if (!choices.includes(s.status)) s.status = "";
    replace(status, h("option", { value: "" }, s.view === "all" ? t("desk.filter.any_status")
      : t("desk.filter.any_open_status")),
      choices.map((st) => h("option", { value: st }, STATUS_LABELS[st])));
    status.value = s.status;
  }

  function syncSort() {
    // A search is ranked by relevance; the sort applies again once the box is empty.
    const searching = !!s.q;
    sort.disabled = searching;
    sort.value = searching ? "relevance" : s.sort;
  }

  // ---------- tabs ----------
  const tabButtons = new Map();
  const tabList = h("div", { class: "tabs queue-tabs", role: "tablist", "aria-label": t("desk.tabs") });
  for (const id of TABS) {
    const button = h("button", { type: "button", role: "tab", class: "tab", id: `queue-${id}`,
      "aria-controls": "queue-panel", "data-view": id, onclick: () => selectTab(id) }, t(`desk.tab.${id}`));
    tabButtons.set(id, button);
    tabList.append(button);
  }
  tabList.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const order = TABS;
    const next = order[(order.indexOf(s.view) + step + order.length) % order.length];
    selectTab(next);
    tabButtons.get(next).focus();
  });

  function markTabs() {
    queuePanel.setAttribute("aria-labelledby", `queue-${s.view}`);
    for (const [id, button] of tabButtons) {
      const selected = id === s.view;
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
    }
  }

  function selectTab(id) {
    if (id === s.view) return;
    s.view = id;
    s.selected = null;
    markTabs();
    fillStatuses();
    reload();
  }

  // ---------- table ----------
  const tbody = h("tbody");
  const allBox = h("input", { type: "checkbox", class: "row-check", "aria-label": t("desk.bulk.select_all"),
    onchange: () => tickAll(allBox.checked) });
  const table = h("table", { class: "table table-queue", "aria-label": t("desk.table") },
    h("thead", {}, h("tr", {}, h("th", { scope: "col", class: "cell-check" }, allBox),
      COLUMNS.map((c, i) => h("th", { scope: "col", class: i === 0 ? "cell-prio" : null },
        t(`desk.col.${c}`))))), tbody);
  const empty = h("div", { hidden: true });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const loadMore = h("button", { type: "button", class: "btn", hidden: true, onclick: () => more(generation) },
    t("desk.load_more"));
  const bulk = bulkBar({ chosen, me: user, ticketOf: (id) => tickets.find((tk) => tk.id === id),
    onClear: () => tickAll(false),
    // The ticks stay, so several actions can follow on the same tickets; tickets that
    // left the list (merged, closed) drop out of the selection as the list refreshes.
    onDone: () => guarded(refresh) });
  const queuePanel = h("section", { class: "panel", id: "queue-panel", role: "tabpanel" },
    h("div", { class: "table-wrap" }, table, empty),
    h("footer", { class: "panel-foot" }, h("span", { class: "inline" }, count, liveIndicator(root)), loadMore));

  function row(tk) {
    const box = h("input", { type: "checkbox", class: "row-check",
      "aria-label": t("desk.bulk.select_row", { number: tk.number }),
      onchange: () => tickRow(tk.id, box.checked) });
    const tr = h("tr", { "data-id": tk.id, "data-number": tk.number, class: "row-link", tabindex: "-1" },
      h("td", { class: "cell-check" }, box),
      h("td", { class: "cell-prio" }, priorityBadge(tk.priority)),
      h("td", { class: "mono nowrap" }, tk.number),
      h("td", { class: "cell-title" },
        h("a", { href: `#/desk/tickets/${tk.id}`, class: "ticket-link" }, tk.title),
        h("div", { class: "cell-sub" }, kindBadge(tk.kind),
          (tk.devices || []).map((d) => h("span", { class: "cell-devices inline-icon", title: t("desk.linked_device") },
            icon("monitor"), d.hostname)),
          tk.tags.map((tag) => h("span", { class: "chip" }, tag)))),
      h("td", { class: "nowrap" }, tk.requester.display_name),
      h("td", { class: "nowrap" }, tk.assignee ? tk.assignee.display_name
        : h("span", { class: "muted" }, t("desk.unassigned"))),
      h("td", {}, ticketStatusBadge(tk.status)),
      h("td", { class: "cell-sla" }, slaBadge(tk.sla)),
      h("td", { class: "nowrap muted", title: dateTime(tk.updated_at) }, ago(tk.updated_at)));
    tr.addEventListener("click", (event) => {
      // The link navigates by itself; the check box ticks.
      if (event.target.closest("a, input, .cell-check")) return;
      location.hash = `#/desk/tickets/${tk.id}`;
    });
    return tr;
  }

  function filtered() {
    return !!(s.q || s.status || s.priority || s.kind);
  }

  // Update the table in place: unchanged rows stay, so do the selection and hover.
  function render() {
    const now = Date.now();
    const wanted = tickets.map((tk) => {
      const sig = `${JSON.stringify(tk)}|${ago(tk.updated_at, now)}|${slaBadge(tk.sla, now).textContent}`;
      const known = rows.get(tk.id);
      if (known && known.sig === sig) return known.tr;
      const tr = row(tk);
      rows.set(tk.id, { sig, tr });
      return tr;
    });
    const ids = new Set(tickets.map((tk) => tk.id));
    for (const id of [...rows.keys()]) if (!ids.has(id)) rows.delete(id);
    wanted.forEach((tr, i) => {
      const current = tbody.children[i];
      if (current !== tr) tbody.insertBefore(tr, current || null);
    });
    while (tbody.children.length > wanted.length) tbody.lastElementChild.remove();
    for (const id of [...chosen]) if (!ids.has(id)) chosen.delete(id);
    for (const [id, { tr }] of rows) {
      tr.classList.toggle("row-new", fresh.has(id));
      tr.querySelector(".row-check").checked = chosen.has(id);
      tr.classList.toggle("row-ticked", chosen.has(id));
      const selected = id === s.selected;
      tr.classList.toggle("row-selected", selected);
      if (selected) tr.setAttribute("aria-current", "true");
      else tr.removeAttribute("aria-current");
    }

    const n = tickets.length;
    replace(count, tn("desk.count", n), cursor ? ` ${t("desk.more_available")}` : "");
    markTicked();
    loadMore.hidden = !cursor;
    table.hidden = n === 0;
    empty.hidden = n !== 0;
    if (n === 0) replace(empty, emptyFor(s.view, filtered()));
  }

  async function more(gen) {
    const data = await guarded(() => api.get("/api/v1/tickets", { limit: PAGE_SIZE, cursor, ...listQuery(s) }));
    if (!data || gen !== generation) return;
    loads += 1;
    const known = new Set(tickets.map((tk) => tk.id));
    tickets = tickets.concat(data.items.filter((tk) => !known.has(tk.id)));
    cursor = data.next_cursor;
    loaded = true;
    render();
  }

  // Fetch again as many tickets as are shown (keyset pages from the top), so live changes
  // appear in place: new tickets at their sort position, changed ones updated.
  async function refresh() {
    if (!loaded || !root.isConnected) return;
    const gen = generation;
    const before = loads;
    const want = Math.max(tickets.length, PAGE_SIZE);
    const got = [];
    let next = null;
    do {
      const data = await api.get("/api/v1/tickets", { limit: Math.min(MAX_PAGE, want - got.length),
        cursor: next, ...listQuery(s) });
      if (gen !== generation || before !== loads) return;
      got.push(...data.items);
      next = data.next_cursor;
    } while (next && got.length < want);
    const known = new Set(tickets.map((tk) => tk.id));
    for (const tk of got) if (!known.has(tk.id)) fresh.add(tk.id);
    tickets = got;
    cursor = next;
    render();
  }

  // ---------- ticked tickets (bulk actions) ----------
  function markTicked() {
    const shown = tickets.filter((tk) => chosen.has(tk.id)).length;
    allBox.checked = shown > 0 && shown === tickets.length;
    allBox.indeterminate = shown > 0 && shown < tickets.length;
    bulk.update();
  }

  function tickRow(id, on) {
    if (on) chosen.add(id);
    else chosen.delete(id);
    const known = rows.get(id);
    if (known) {
      known.tr.querySelector(".row-check").checked = on;
      known.tr.classList.toggle("row-ticked", on);
    }
    markTicked();
  }

  function tickAll(on) {
    for (const tk of tickets) tickRow(tk.id, on);
  }

  function reload() {
    generation += 1;
    chosen.clear(); // other filters, other tickets: nothing ticked is out of sight
    saved.refresh();
    cursor = null;
    tickets = [];
    loaded = false;
    fresh.clear();
    return more(generation);
  }

  // ---------- selection and shortcuts ----------
  function select(id) {
    s.selected = id;
    render();
    const known = rows.get(id);
    if (!known) return;
    // The row takes the focus, so Enter opens it rather than re-pressing a tab or button.
    known.tr.focus({ preventScroll: true });
    known.tr.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    if (!tickets.length) return;
    const index = tickets.findIndex((tk) => tk.id === s.selected);
    let next;
    if (index === -1) next = step > 0 ? 0 : tickets.length - 1;
    else next = Math.max(0, Math.min(tickets.length - 1, index + step));
    select(tickets[next].id);
  }

  function selectedTicket() {
    return tickets.find((tk) => tk.id === s.selected) || null;
  }

  async function assignSelected() {
    const tk = selectedTicket();
    if (!tk) {
      showError(t("desk.select_first"));
      return;
    }
    clearNotice();
    const updated = await guarded(() => api.patch(`/api/v1/tickets/${tk.id}`, { assignee_id: user.id }));
    if (!updated) return;
    showSuccess(t("desk.assigned_to_you", { number: updated.number }));
    await guarded(refresh);
  }

  shortcuts(root, [
    { key: "j", label: t("desk.key.next"), run: () => move(1) },
    { key: "k", label: t("desk.key.previous"), run: () => move(-1) },
    { key: "Enter", label: t("desk.key.open"), run: () => {
      const tk = selectedTicket();
      if (tk) location.hash = `#/desk/tickets/${tk.id}`;
    } },
    { key: "/", label: t("desk.key.search"), run: () => { search.focus(); search.select(); } },
    { key: "a", label: t("desk.key.assign"), run: assignSelected },
    { key: "x", label: t("desk.key.tick"), run: () => {
      const tk = selectedTicket();
      if (tk) tickRow(tk.id, !chosen.has(tk.id));
    } },
  ]);

  // ---------- filters ----------
  let timer = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      s.q = search.value.trim();
      syncSort();
      reload();
    }, 250);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      clearTimeout(timer);
      s.q = search.value.trim();
      syncSort();
      reload();
    }
  });
  status.addEventListener("change", () => { s.status = status.value; reload(); });
  priority.addEventListener("change", () => { s.priority = priority.value; reload(); });
  kind.addEventListener("change", () => { s.kind = kind.value; reload(); });
  sort.addEventListener("change", () => { s.sort = sort.value; reload(); });

  const refreshSoon = debounce(() => guarded(refresh), 300);
  onLive(root, { onTicket: refreshSoon, onResync: refreshSoon });

  const tick = setInterval(() => {
    if (!root.isConnected) clearInterval(tick);
    else if (loaded) render();
  }, TICK_MS);

  // Show a state (a saved view's, or the remembered one) in the controls.
  function showState(state) {
    Object.assign(s, state);
    search.value = s.q;
    markTabs();
    fillStatuses();
    priority.value = s.priority;
    kind.value = s.kind;
    syncSort();
  }

  const saved = savedViewsBar({ user, current: () => s, open: (state) => {
    showState({ ...state, selected: null });
    reload();
  } });
  showState({});
  root.append(
    saved.element,
    h("div", { class: "toolbar" },
      h("div", { class: "search search-tickets" }, icon("search"), search), status, priority, kind,
      h("div", { class: "toolbar-end" },
        iconButton("plus", t("desk.new_ticket"), { class: "btn btn-primary", onclick: () => newTicket(user) }))),
    h("div", { class: "queue-bar" }, tabList,
      h("div", { class: "queue-bar-end" }, h("label", { class: "sort-label", for: "queue-sort" }, t("desk.sort")),
        sort, helpButton())),
    bulk.element,
    queuePanel);
  reload();
}
