// The Desk (technicians and admins): the ticket queue with saved views, search, filters,
// keyboard navigation, live updates, and the technician's New ticket dialog.

import { api } from "../api.js";
import { allGroups, allUsers } from "../directory.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { ago, dateTime } from "../format.js";
import { icon } from "../icons.js";
import { helpButton, shortcuts } from "../keys.js";
import { debounce, liveIndicator, onLive } from "../live.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import {
  KIND_LABELS, LEVEL_LABELS, OPEN_STATUSES, STATUSES, STATUS_LABELS, categoryList, categorySelect,
  kindBadge, parseTags, previewPriority, priorityBadge, ticketStatusBadge,
} from "../tickets.js";
import { slaBadge } from "../sla.js";
import { emptyState, iconButton, openModal } from "../ui.js";

const PAGE_SIZE = 50;
const MAX_PAGE = 200; // the server's default page_size_max
const COLUMNS = ["Priority", "Number", "Title", "Requester", "Assignee", "Status", "SLA", "Updated"];
const TICK_MS = 30_000; // countdowns redraw this often
const TABS = [
  { id: "my_open", label: "My open" },
  { id: "unassigned", label: "Unassigned" },
  { id: "open", label: "All open" },
  { id: "all", label: "All" },
];
const SORTS = [["-id", "Newest first"], ["priority", "Priority"], ["due", "SLA due"],
  ["-updated", "Recently updated"]];

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
  if (filtered) return emptyState("search", "No tickets match", "Try another search or filter.");
  return {
    my_open: emptyState("inbox", "Nothing assigned to you",
      "Open tickets assigned to you are listed here. Pick one from Unassigned to get started."),
    unassigned: emptyState("inbox", "No unassigned tickets",
      "New tickets without an assignee, for your groups or for no group, are listed here."),
    open: emptyState("inbox", "No open tickets", "New, assigned, in-progress and pending tickets are listed here."),
    all: emptyState("ticket", "No tickets yet", "Tickets raised in the portal, by the tray agent or by the desk are listed here."),
  }[view];
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

  // ---------- toolbar ----------
  const search = h("input", { type: "search", name: "q", placeholder: "Search tickets", value: s.q,
    "aria-label": "Search tickets", maxlength: 200, "aria-keyshortcuts": "/" });
  const status = h("select", { name: "status", "aria-label": "Filter by status", class: "select-status" });
  const priority = h("select", { name: "priority", "aria-label": "Filter by priority", class: "select-narrow" },
    h("option", { value: "" }, "Any priority"),
    [1, 2, 3, 4, 5].map((p) => h("option", { value: String(p) }, `P${p}`)));
  const kind = h("select", { name: "kind", "aria-label": "Filter by kind", class: "select-narrow" },
    h("option", { value: "" }, "Any kind"),
    Object.entries(KIND_LABELS).map(([k, label]) => h("option", { value: k }, label)));
  const sort = h("select", { name: "sort", id: "queue-sort", class: "select-sort" },
    h("option", { value: "relevance", hidden: true }, "Best match"),
    SORTS.map(([value, label]) => h("option", { value }, label)));

  function fillStatuses() {
    const choices = s.view === "all" ? STATUSES : OPEN_STATUSES;
    if (!choices.includes(s.status)) s.status = "";
    replace(status, h("option", { value: "" }, s.view === "all" ? "Any status" : "Any open status"),
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
  const tabList = h("div", { class: "tabs queue-tabs", role: "tablist", "aria-label": "Queues" });
  for (const t of TABS) {
    const button = h("button", { type: "button", role: "tab", class: "tab", id: `queue-${t.id}`,
      "aria-controls": "queue-panel", "data-view": t.id, onclick: () => selectTab(t.id) }, t.label);
    tabButtons.set(t.id, button);
    tabList.append(button);
  }
  tabList.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const order = TABS.map((t) => t.id);
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
  const table = h("table", { class: "table table-queue", "aria-label": "Tickets" },
    h("thead", {}, h("tr", {}, COLUMNS.map((c, i) => h("th", { scope: "col", class: i === 0 ? "cell-prio" : null },
      c)))), tbody);
  const empty = h("div", { hidden: true });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const loadMore = h("button", { type: "button", class: "btn", hidden: true, onclick: () => more(generation) },
    "Load more");
  const queuePanel = h("section", { class: "panel", id: "queue-panel", role: "tabpanel" },
    h("div", { class: "table-wrap" }, table, empty),
    h("footer", { class: "panel-foot" }, h("span", { class: "inline" }, count, liveIndicator(root)), loadMore));

  function row(t) {
    const tr = h("tr", { "data-id": t.id, "data-number": t.number, class: "row-link", tabindex: "-1" },
      h("td", { class: "cell-prio" }, priorityBadge(t.priority)),
      h("td", { class: "mono nowrap" }, t.number),
      h("td", { class: "cell-title" },
        h("a", { href: `#/desk/tickets/${t.id}`, class: "ticket-link" }, t.title),
        h("div", { class: "cell-sub" }, kindBadge(t.kind),
          (t.devices || []).map((d) => h("span", { class: "cell-devices inline-icon", title: "Linked device" },
            icon("monitor"), d.hostname)),
          t.tags.map((tag) => h("span", { class: "chip" }, tag)))),
      h("td", { class: "nowrap" }, t.requester.display_name),
      h("td", { class: "nowrap" }, t.assignee ? t.assignee.display_name
        : h("span", { class: "muted" }, "Unassigned")),
      h("td", {}, ticketStatusBadge(t.status)),
      h("td", { class: "cell-sla" }, slaBadge(t.sla)),
      h("td", { class: "nowrap muted", title: dateTime(t.updated_at) }, ago(t.updated_at)));
    tr.addEventListener("click", (event) => {
      if (event.target.closest("a")) return; // the link navigates by itself
      location.hash = `#/desk/tickets/${t.id}`;
    });
    return tr;
  }

  function filtered() {
    return !!(s.q || s.status || s.priority || s.kind);
  }

  // Update the table in place: unchanged rows stay, so do the selection and hover.
  function render() {
    const now = Date.now();
    const wanted = tickets.map((t) => {
      const sig = `${JSON.stringify(t)}|${ago(t.updated_at, now)}|${slaBadge(t.sla, now).textContent}`;
      const known = rows.get(t.id);
      if (known && known.sig === sig) return known.tr;
      const tr = row(t);
      rows.set(t.id, { sig, tr });
      return tr;
    });
    const ids = new Set(tickets.map((t) => t.id));
    for (const id of [...rows.keys()]) if (!ids.has(id)) rows.delete(id);
    wanted.forEach((tr, i) => {
      const current = tbody.children[i];
      if (current !== tr) tbody.insertBefore(tr, current || null);
    });
    while (tbody.children.length > wanted.length) tbody.lastElementChild.remove();
    for (const [id, { tr }] of rows) {
      tr.classList.toggle("row-new", fresh.has(id));
      const selected = id === s.selected;
      tr.classList.toggle("row-selected", selected);
      if (selected) tr.setAttribute("aria-current", "true");
      else tr.removeAttribute("aria-current");
    }

    const n = tickets.length;
    replace(count, n === 1 ? "1 ticket" : `${n} tickets`, cursor ? " (more available)" : "");
    loadMore.hidden = !cursor;
    table.hidden = n === 0;
    empty.hidden = n !== 0;
    if (n === 0) replace(empty, emptyFor(s.view, filtered()));
  }

  async function more(gen) {
    const data = await guarded(() => api.get("/api/v1/tickets", { limit: PAGE_SIZE, cursor, ...listQuery(s) }));
    if (!data || gen !== generation) return;
    loads += 1;
    const known = new Set(tickets.map((t) => t.id));
    tickets = tickets.concat(data.items.filter((t) => !known.has(t.id)));
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
    const known = new Set(tickets.map((t) => t.id));
    for (const t of got) if (!known.has(t.id)) fresh.add(t.id);
    tickets = got;
    cursor = next;
    render();
  }

  function reload() {
    generation += 1;
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
    const index = tickets.findIndex((t) => t.id === s.selected);
    let next;
    if (index === -1) next = step > 0 ? 0 : tickets.length - 1;
    else next = Math.max(0, Math.min(tickets.length - 1, index + step));
    select(tickets[next].id);
  }

  function selectedTicket() {
    return tickets.find((t) => t.id === s.selected) || null;
  }

  async function assignSelected() {
    const t = selectedTicket();
    if (!t) {
      showError("select a ticket first (j and k move the selection)");
      return;
    }
    clearNotice();
    const updated = await guarded(() => api.patch(`/api/v1/tickets/${t.id}`, { assignee_id: user.id }));
    if (!updated) return;
    showSuccess(`${updated.number} is assigned to you.`);
    await guarded(refresh);
  }

  shortcuts(root, [
    { key: "j", label: "Next ticket", run: () => move(1) },
    { key: "k", label: "Previous ticket", run: () => move(-1) },
    { key: "Enter", label: "Open the selected ticket", run: () => {
      const t = selectedTicket();
      if (t) location.hash = `#/desk/tickets/${t.id}`;
    } },
    { key: "/", label: "Search", run: () => { search.focus(); search.select(); } },
    { key: "a", label: "Assign the selected ticket to me", run: assignSelected },
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

  markTabs();
  fillStatuses();
  priority.value = s.priority;
  kind.value = s.kind;
  syncSort();
  root.append(
    h("div", { class: "toolbar" },
      h("div", { class: "search search-tickets" }, icon("search"), search), status, priority, kind,
      h("div", { class: "toolbar-end" },
        iconButton("plus", "New ticket", { class: "btn btn-primary", onclick: () => newTicket(user) }))),
    h("div", { class: "queue-bar" }, tabList,
      h("div", { class: "queue-bar-end" }, h("label", { class: "sort-label", for: "queue-sort" }, "Sort"), sort,
        helpButton())),
    queuePanel);
  reload();
}

// ---------- New ticket (technicians) ----------

let directory = null; // {users, groups, categories}, loaded when the dialog first opens

async function loadDirectory() {
  const [users, groups, categories] = await Promise.all([allUsers(), allGroups(), categoryList()]);
  directory = { users: users.filter((u) => u.active), groups, categories };
  return directory;
}

/** Open the technician's New ticket dialog; go to the ticket once it is created. */
export async function newTicket(me) {
  clearNotice();
  const dir = await guarded(loadDirectory);
  if (!dir) return;
  const byName = (a, b) => a.display_name.localeCompare(b.display_name);
  const staff = dir.users.filter((u) => u.role !== "requester").sort(byName);
  const everyone = [...dir.users].sort(byName);
  const level = (name, label) => field(label, h("select", { name },
    [1, 2, 3].map((v) => h("option", { value: String(v), selected: v === 3 }, LEVEL_LABELS[v]))));
  const preview = h("span", { class: "priority-preview",
    title: "From impact and urgency by the ITIL matrix; the server's matrix decides" });
  const form = h("form", { class: "stack", "aria-label": "New ticket" },
    h("div", { class: "row-2" },
      field("Kind", h("select", { name: "kind" },
        Object.entries(KIND_LABELS).map(([k, label]) => h("option", { value: k }, label)))),
      field("Category", categorySelect(dir.categories, null))),
    field("Title", h("input", { name: "title", required: true, maxlength: 200,
      placeholder: "Short summary, e.g. VPN drops every few minutes" })),
    field("Description", h("textarea", { name: "description", rows: 4, maxlength: 20000 })),
    h("div", { class: "row-3" }, level("impact", "Impact"), level("urgency", "Urgency"),
      h("div", { class: "field" }, h("span", { class: "field-label" }, "Priority"), preview)),
    h("div", { class: "row-2" },
      field("Requester", h("select", { name: "requester_id" },
        everyone.map((u) => h("option", { value: String(u.id), selected: u.id === me.id },
          `${u.display_name} (${u.username})`)))),
      field("Assignee", h("select", { name: "assignee_id" },
        h("option", { value: "" }, "Unassigned"),
        staff.map((u) => h("option", { value: String(u.id) }, u.id === me.id ? `${u.display_name} (me)`
          : u.display_name))))),
    h("div", { class: "row-2" },
      field("Group", h("select", { name: "group_id" }, h("option", { value: "" }, "No group"),
        dir.groups.map((g) => h("option", { value: String(g.id) }, g.name)))),
      field("Tags", h("input", { name: "tags", maxlength: 400, placeholder: "e.g. vpn, laptop" }),
        "Separated by commas or spaces.")),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary" }, "Create ticket")));
  const showPreview = () => {
    const v = formValues(form);
    replace(preview, priorityBadge(previewPriority(v.impact, v.urgency)));
  };
  form.addEventListener("change", showPreview);
  showPreview();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    const v = formValues(form);
    const body = { kind: v.kind, title: v.title, description: v.description, impact: Number(v.impact),
      urgency: Number(v.urgency), requester_id: Number(v.requester_id), tags: parseTags(v.tags) };
    if (v.category_id) body.category_id = Number(v.category_id);
    if (v.assignee_id) body.assignee_id = Number(v.assignee_id);
    if (v.group_id) body.group_id = Number(v.group_id);
    try {
      const created = await busy(form, () => api.post("/api/v1/tickets", body));
      dialog.close();
      location.hash = `#/desk/tickets/${created.id}`; // the ticket page is the confirmation
    } catch (error) {
      showError(error);
    }
  });
  const dialog = openModal("New ticket", form);
  dialog.classList.add("modal-wide");
  form.elements.title.focus();
}
