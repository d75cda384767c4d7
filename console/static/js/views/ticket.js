// One ticket on the Desk: header, conversation with internal notes, composer, and the side
// panel where a technician sets status, assignee, group, impact/urgency, category, tags,
// linked devices and related tickets, and acts: resolve, merge, split, approve. Follows the
// live feed; keyboard: r reply, a assign to me, x resolve, m merge, s split, l relate,
// c canned response, Esc queue.

import { api } from "../api.js";
import { allGroups, allUsers } from "../directory.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { ago, dateTime } from "../format.js";
import { icon } from "../icons.js";
import { ticketArticles } from "../kb_ticket.js";
import { helpButton, shortcuts } from "../keys.js";
import { debounce, liveIndicator, onLive } from "../live.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { attachmentList, composer, fetchTimeline, uploadFile } from "../ticket_parts.js";
import {
  FINAL_STATUSES, KIND_LABELS, LEVEL_LABELS, RESOLUTION_CODES, SOURCE_LABELS, STATUS_LABELS, TRANSITIONS,
  PRIORITY_LABELS, categoryList, categorySelect, kindBadge, parseTags, priorityBadge, reportedBy,
  resolutionLabel, ticketStatusBadge,
} from "../tickets.js";
import { slaClocks } from "../sla.js";
import {
  approvalDialog, approvalState, cannedDialog, formFacts, linkDialog, mergeDialog, splitDialog,
} from "../ticket_actions.js";
import { remotePanel } from "../remote_panel.js";
import { syncTimeline } from "../timeline.js";
import { confirmDialog, emptyState, openModal, panel } from "../ui.js";

const KIND_ARTICLE = { incident: "an", service_request: "a", problem: "a" };

/** Fill the desk's ticket view; `params[0]` is the ticket id. */
export function ticketView(root, { user, params, setTitle }) {
  const id = Number(params[0]);
  let ticket = null;
  let timeline = { events: [], attachments: [] };
  const users = new Map();
  const groups = new Map();
  let categories = [];
  const devices = new Map(); // device id -> hostname (or null while unknown)
  const related = new Map(); // ticket id -> {number, title, status}: problem, related, merged into
  let catalogFields = null; // the form fields of a catalog request's item

  const names = {
    user: (uid) => (users.get(uid) ? users.get(uid).display_name : `user #${uid}`),
    group: (gid) => groups.get(gid) || `group #${gid}`,
    category: (cid) => (categories.find((c) => c.id === cid) || { label: `category #${cid}` }).label,
    device: (did) => devices.get(did) || `device #${did}`, // hostnames come with the ticket
    ticket: (tid) => (related.get(tid) ? related.get(tid).number : `#${tid}`),
  };

  const header = h("section", { class: "panel ticket-head" });
  const description = h("div", { class: "ticket-description" });
  const list = h("ol", { class: "tl", "aria-label": "Timeline" });
  const side = h("div", { class: "ticket-side" });
  const files = h("div");
  const cannedButton = h("button", { type: "button", class: "btn btn-ghost", "aria-keyshortcuts": "c",
    onclick: () => insertCanned() }, icon("copy"), "Canned response");
  const articles = ticketArticles(id, { staff: true, onSent: () => guarded(load) });
  const remote = remotePanel();
  const box = composer({
    staff: true,
    tools: cannedButton,
    onSend: async (body, internal) => {
      await api.post(`/api/v1/tickets/${id}/comments`, { body, internal });
      await load();
      showSuccess(internal ? "Internal note added." : "Reply sent.");
    },
    onAttach: async (file, internal) => {
      const stored = await uploadFile(id, file, { internal });
      await load();
      showSuccess(`${stored.filename} attached${internal ? " (internal)" : ""}.`);
    },
  });

  // ---------- rendering ----------
  function renderHeader() {
    const t = ticket;
    replace(header,
      h("div", { class: "ticket-head-top" },
        h("div", { class: "ticket-badges" }, priorityBadge(t.priority),
          h("span", { class: "mono ticket-number" }, t.number), kindBadge(t.kind), ticketStatusBadge(t.status)),
        t.assignee ? h("span", { class: "ticket-assignee" }, icon("user"), t.assignee.display_name)
          : h("span", { class: "ticket-assignee muted" }, icon("user"), "Unassigned")),
      h("h2", { class: "ticket-title" }, t.title),
      h("p", { class: "ticket-meta" },
        "Opened by ", h("strong", {}, t.requester.display_name), ` \u00b7 ${dateTime(t.created_at)}`,
        ` \u00b7 via ${SOURCE_LABELS[t.source] || t.source}`,
        t.reported ? h("span", { class: "ticket-reported" }, ` \u00b7 ${reportedBy(
          t.reported.device && t.reported.device.hostname, t.reported.login)}`) : null,
        h("span", { title: dateTime(t.updated_at) }, ` \u00b7 updated ${ago(t.updated_at)}`)),
      t.merged_into_id ? h("p", { class: "ticket-note merged-ref" }, icon("link"), "Merged into ",
        h("a", { href: `#/desk/tickets/${t.merged_into_id}` }, names.ticket(t.merged_into_id)),
        related.get(t.merged_into_id) ? ` \u2013 ${related.get(t.merged_into_id).title}` : null, ".") : null,
      approvalState(t));
    setTitle(t.number);
  }

  function renderDescription() {
    replace(description, h("article", { class: "tl-card tl-description", "aria-label": "Description" },
      h("header", { class: "tl-head" }, h("span", { class: "tl-author" }, ticket.requester.display_name),
        h("span", { class: "muted small" }, "described the problem"),
        h("time", { class: "tl-time", datetime: ticket.created_at }, dateTime(ticket.created_at))),
      h("div", { class: "tl-text" }, ticket.description || h("span", { class: "muted" }, "No description."))));
  }

  function renderTimeline() {
    syncTimeline(list, timeline.events, { staff: true, me: user.id, requesterId: ticket.requester.id,
      names, attachments: timeline.attachments });
    replace(files, attachmentList(timeline.attachments, { staff: true }));
  }

  // The side panel: each control saves on change.
  function renderSide() {
    const t = ticket;
    const final = FINAL_STATUSES.has(t.status);
    const focused = side.contains(document.activeElement) ? document.activeElement.name : null;
    const typedTag = side.querySelector("input[name=tag]")?.value || ""; // kept across live redraws
    const staffUsers = [...users.values()].filter((u) => u.role !== "requester" && (u.active || u.id === (t.assignee && t.assignee.id)))
      .sort((a, b) => a.display_name.localeCompare(b.display_name));

    const status = h("select", { name: "status", disabled: final || null },
      [t.status, ...TRANSITIONS[t.status]].map((st) => h("option", { value: st, selected: st === t.status },
        st === t.status ? STATUS_LABELS[st] : `\u2192 ${STATUS_LABELS[st]}`)));
    status.addEventListener("change", () => changeStatus(status.value));

    const assignee = h("select", { name: "assignee_id", disabled: final || null },
      h("option", { value: "", selected: !t.assignee }, "Unassigned"),
      staffUsers.map((u) => h("option", { value: String(u.id), selected: t.assignee && t.assignee.id === u.id },
        u.id === user.id ? `${u.display_name} (me)` : u.display_name)));
    assignee.addEventListener("change", () => save({ assignee_id: assignee.value ? Number(assignee.value) : null }));

    const group = h("select", { name: "group_id", disabled: final || null },
      h("option", { value: "", selected: !t.group_id }, "No group"),
      [...groups].map(([gid, name]) => h("option", { value: String(gid), selected: gid === t.group_id }, name)));
    group.addEventListener("change", () => save({ group_id: group.value ? Number(group.value) : null }));

    const level = (name) => {
      const select = h("select", { name, disabled: final || null },
        [1, 2, 3].map((v) => h("option", { value: String(v), selected: v === t[name] }, LEVEL_LABELS[v])));
      select.addEventListener("change", () => save({ [name]: Number(select.value) }));
      return select;
    };

    // A new kind takes a number of that kind (the old one stays findable): ask first.
    const kind = h("select", { name: "kind", disabled: final || t.approval === "requested" || null },
      Object.entries(KIND_LABELS).map(([value, label]) => h("option", { value, selected: value === t.kind }, label)));
    kind.addEventListener("change", () => changeKind(kind.value));

    const category = categorySelect(categories, t.category_id, { disabled: final || null });
    category.addEventListener("change", () => save({ category_id: category.value ? Number(category.value) : null }));

    const tagInput = h("input", { name: "tag", maxlength: 50, placeholder: "Add a tag", disabled: final || null,
      "aria-label": "Add a tag" });
    tagInput.value = typedTag;
    tagInput.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const added = parseTags(tagInput.value);
      tagInput.value = "";
      if (added.length) save({ tags: [...new Set([...t.tags, ...added])] });
    });
    const tags = h("div", { class: "tag-editor" },
      t.tags.length ? h("span", { class: "chips" }, t.tags.map((tag) => h("span", { class: "chip chip-removable" },
        tag, final ? null : h("button", { type: "button", class: "chip-remove", "aria-label": `Remove tag ${tag}`,
          onclick: () => save({ tags: t.tags.filter((x) => x !== tag) }) }, "\u00d7")))) : null,
      final ? (t.tags.length ? null : h("span", { class: "muted" }, "None")) : tagInput);

    const linked = h("div", { class: "device-links" },
      t.device_ids.length ? h("ul", { class: "link-list" }, t.device_ids.map((did) => h("li", {},
        h("a", { href: `#/devices/${did}`, class: "inline-icon" }, icon("monitor"), names.device(did)),
        final ? null : h("button", { type: "button", class: "chip-remove", "aria-label": `Unlink device ${names.device(did)}`,
          onclick: () => save({ device_ids: t.device_ids.filter((x) => x !== did) }) }, "\u00d7"))))
        : h("span", { class: "muted" }, "None"),
      final ? null : h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: linkDevice },
        icon("link"), "Link a device"));

    const resolution = t.resolution_code ? h("div", { class: "resolution" },
      h("div", { class: "resolution-head" }, icon("check"), "Resolution: ", h("strong", {}, resolutionLabel(t.resolution_code))),
      t.resolution_note ? h("p", { class: "tl-text" }, t.resolution_note) : null) : null;

    const relatedList = h("div", { class: "related-links" },
      t.related_ids.length ? h("ul", { class: "link-list", "aria-label": "Related tickets" }, t.related_ids.map((rid) => h("li", {},
        h("a", { href: `#/desk/tickets/${rid}`, class: "inline-icon", title: related.get(rid) ? related.get(rid).title : null },
          icon("ticket"), names.ticket(rid)),
        related.get(rid) ? h("span", { class: "muted small related-title" }, related.get(rid).title) : null,
        h("button", { type: "button", class: "chip-remove", "aria-label": `Unrelate ${names.ticket(rid)}`,
          onclick: () => unrelate(rid) }, "\u00d7"))))
        : h("span", { class: "muted" }, "None"),
      h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-keyshortcuts": "l", onclick: relate },
        icon("link"), "Relate a ticket"));

    // What the matrix made of impact and urgency (the server's matrix is authoritative).
    const matrix = h("p", { class: "matrix-result", "data-priority": t.priority },
      `Impact ${t.impact} \u00d7 urgency ${t.urgency} \u2192 `, priorityBadge(t.priority),
      ` ${PRIORITY_LABELS[t.priority] || ""}`);

    const approver = t.approval === "requested" && ((t.approver && t.approver.id === user.id) || user.role === "admin");
    const actions = h("div", { class: "ticket-actions" },
      !final && t.status !== "resolved" ? h("button", { type: "button", class: "btn btn-small", "aria-keyshortcuts": "x",
        onclick: () => changeStatus("resolved") }, icon("check"), "Resolve\u2026") : null,
      !final ? h("button", { type: "button", class: "btn btn-small", "aria-keyshortcuts": "m", onclick: merge },
        icon("link"), "Merge\u2026") : null,
      h("button", { type: "button", class: "btn btn-small", "aria-keyshortcuts": "s", onclick: split },
        icon("plus"), "Split\u2026"),
      approver ? [
        h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => decide("approve") },
          icon("check"), "Approve\u2026"),
        h("button", { type: "button", class: "btn btn-small btn-danger", onclick: () => decide("reject") },
          icon("x"), "Reject\u2026")] : null);

    const mine = t.assignee && t.assignee.id === user.id;
    replace(side,
      panel("Actions", actions),
      panel("Details", h("div", { class: "stack side-form" },
        field("Status", status),
        h("div", { class: "field" },
          h("div", { class: "field-row" }, h("label", { for: "side-assignee" }, "Assignee"),
            !mine && !final ? h("button", { type: "button", class: "link-button", "aria-keyshortcuts": "a",
              onclick: assignToMe }, icon("user_plus"), "Assign to me") : null),
          assignee),
        field("Group", group),
        field("Kind", kind),
        h("div", { class: "row-2" }, field("Impact", level("impact")), field("Urgency", level("urgency"))),
        matrix,
        field("Category", category),
        h("div", { class: "field" }, h("span", { class: "field-label" }, "Tags"), tags),
        h("div", { class: "field" }, h("span", { class: "field-label" }, "Linked devices"), linked),
        h("div", { class: "field" }, h("span", { class: "field-label" }, "Related tickets"), relatedList),
        resolution,
        t.form ? h("div", { class: "field" }, h("span", { class: "field-label" }, "Request form"),
          formFacts(t, catalogFields)) : null,
        h("dl", { class: "facts facts-side" },
          h("dt", {}, "Requester"), h("dd", {}, t.requester.display_name),
          t.reported ? [h("dt", {}, "Reported login"), h("dd", { class: "reported-login" },
            h("span", { class: "mono" }, t.reported.login), " on ",
            t.reported.device ? h("a", { href: `#/devices/${t.reported.device.id}` }, t.reported.device.hostname)
              : "a removed device", h("span", { class: "muted small" }, " (as the device reported it)"))] : null,
          h("dt", {}, "Kind"), h("dd", {}, KIND_LABELS[t.kind] || t.kind),
          t.former_numbers.length ? [h("dt", {}, "Formerly"),
            h("dd", { class: "mono former-numbers" }, t.former_numbers.join(", "))] : null,
          t.problem_id ? [h("dt", {}, "Problem"), h("dd", {}, h("a", { href: `#/desk/tickets/${t.problem_id}`,
            title: related.get(t.problem_id) ? related.get(t.problem_id).title : null }, names.ticket(t.problem_id)))]
            : null,
          h("dt", {}, "Created"), h("dd", {}, dateTime(t.created_at)),
          t.resolved_at ? [h("dt", {}, "Resolved"), h("dd", {}, dateTime(t.resolved_at))] : null,
          t.closed_at ? [h("dt", {}, "Closed"), h("dd", {}, dateTime(t.closed_at))] : null))),
      panel("SLA", slaClocks(t.sla), { cls: "panel-sla" }),
      panel("Remote session", remote.el),
      panel("Attachments", files),
      articles.el);
    assignee.id = "side-assignee";
    if (focused) {
      const again = side.querySelector(`[name="${focused}"]`);
      if (again) again.focus();
    }
    box.setClosed(final ? `This ticket is ${STATUS_LABELS[t.status].toLowerCase()}; it takes no more replies.` : null);
  }

  function show(t) {
    ticket = t;
    for (const d of t.devices || []) devices.set(d.id, d.hostname);
    renderHeader();
    renderDescription();
    renderSide();
    articles.refresh(t.status);
  }

  // ---------- actions ----------
  async function save(changes) {
    clearNotice();
    try {
      const updated = await api.patch(`/api/v1/tickets/${id}`, changes);
      show(updated);
      await refreshTimeline();
      return updated;
    } catch (error) {
      showError(error);
      renderSide(); // back to what the server holds
      return null;
    }
  }

  async function changeKind(kind) {
    const before = ticket;
    const ok = await confirmDialog(`Make ${before.number} ${KIND_ARTICLE[kind]} ${KIND_LABELS[kind].toLowerCase()}?`,
      `It gets the next ${KIND_LABELS[kind].toLowerCase()} number; searching for ${before.number} still finds it. `
      + "The SLA targets for the new kind apply from now on, and the requester sees the change.",
      { confirmLabel: "Change kind" });
    if (!ok) {
      renderSide();
      return;
    }
    const updated = await save({ kind });
    if (updated) showSuccess(`${before.number} is now ${updated.number}.`);
  }

  async function assignToMe() {
    if (!ticket || FINAL_STATUSES.has(ticket.status)) return;
    if (ticket.assignee && ticket.assignee.id === user.id) {
      showSuccess(`${ticket.number} is already assigned to you.`);
      return;
    }
    const updated = await save({ assignee_id: user.id });
    if (updated) showSuccess(`${updated.number} is assigned to you.`);
  }

  function changeStatus(next) {
    if (next !== "resolved") {
      save({ status: next });
      return;
    }
    let done = false;
    const form = h("form", { class: "stack", "aria-label": "Resolve ticket" },
      field("Resolution code", h("select", { name: "resolution_code", required: true },
        h("option", { value: "" }, "Choose a code\u2026"),
        RESOLUTION_CODES.map(([code, label]) => h("option", { value: code }, label)))),
      field("Resolution note", h("textarea", { name: "resolution_note", rows: 4, required: true, maxlength: 20000,
        placeholder: "What was wrong and what fixed it" }), "The requester sees this note and can reopen the ticket."),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel"),
        h("button", { type: "submit", class: "btn btn-primary" }, icon("check"), "Resolve ticket")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      const v = formValues(form);
      try {
        const updated = await busy(form, () => api.patch(`/api/v1/tickets/${id}`,
          { status: "resolved", resolution_code: v.resolution_code, resolution_note: v.resolution_note }));
        done = true;
        dialog.close();
        show(updated);
        await guarded(refreshTimeline);
        showSuccess(`${updated.number} resolved.`);
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal(`Resolve ${ticket.number}`, form, { onClose: () => { if (!done) renderSide(); } });
    form.elements.resolution_code.focus();
  }

  async function merge() {
    if (!ticket || FINAL_STATUSES.has(ticket.status)) return;
    const target = await mergeDialog(ticket);
    if (!target) return;
    related.set(target.id, { number: target.number, title: target.title });
    await guarded(load);
    showSuccess(`${ticket.number} is merged into ${target.number}.`);
  }

  async function split() {
    if (!ticket) return;
    const created = await splitDialog(ticket);
    if (!created) return;
    showSuccess(`${created.number} was split off ${ticket.number}.`);
    location.hash = `#/desk/tickets/${created.id}`;
  }

  async function relate() {
    if (!ticket) return;
    const updated = await linkDialog(ticket);
    if (!updated) return;
    await fetchNames(updated, timeline.events);
    show(updated);
    await guarded(refreshTimeline);
    showSuccess(`${ticket.number} is related to ${names.ticket(updated.related_ids[updated.related_ids.length - 1])}.`);
  }

  async function unrelate(rid) {
    clearNotice();
    const ok = await guarded(async () => {
      await api.delete(`/api/v1/tickets/${id}/links/${rid}`);
      return true;
    });
    if (!ok) return;
    await guarded(load);
    showSuccess(`${names.ticket(rid)} is no longer related.`);
  }

  async function insertCanned() {
    if (!ticket || FINAL_STATUSES.has(ticket.status)) return;
    const text = await cannedDialog();
    if (text) box.insert(text);
  }

  async function decide(decision) {
    const updated = await approvalDialog(ticket, decision);
    if (!updated) return;
    show(updated);
    await guarded(refreshTimeline);
    showSuccess(`${updated.number} is ${decision === "approve" ? "approved" : "rejected"}.`);
  }

  function linkDevice() {
    const q = h("input", { type: "search", name: "q", placeholder: "Host name, serial or user", maxlength: 200,
      "aria-label": "Search devices" });
    const results = h("ul", { class: "pick-list", "aria-label": "Devices found" });
    const form = h("form", { class: "stack", "aria-label": "Link a device" },
      h("div", { class: "search" }, icon("search"), q), results);
    let timer = 0;
    async function find() {
      const data = await guarded(() => api.get("/api/v1/devices", { q: q.value.trim(), limit: 20 }));
      if (!data) return;
      replace(results, data.items.length ? data.items.map((d) => {
        const linked = ticket.device_ids.includes(d.id);
        return h("li", {}, h("span", { class: "inline-icon" }, icon("monitor"), h("strong", {}, d.hostname)),
          h("span", { class: "muted small" }, d.logged_in_users.join(", ")),
          h("button", { type: "button", class: "btn btn-small", disabled: linked || null, onclick: async () => {
            devices.set(d.id, d.hostname);
            dialog.close();
            const updated = await save({ device_ids: [...ticket.device_ids, d.id] });
            if (updated) showSuccess(`${d.hostname} linked to ${updated.number}.`);
          } }, linked ? "Linked" : "Link"));
      }) : h("li", { class: "list-empty" }, "No devices match."));
    }
    q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 250); });
    form.addEventListener("submit", (e) => { e.preventDefault(); find(); });
    const dialog = openModal("Link a device", form);
    q.focus();
    find();
  }

  // ---------- loading ----------
  async function refreshTimeline() {
    timeline = await fetchTimeline(id);
    if (root.isConnected) renderTimeline();
  }

  // Names the timeline and side panel show for ids: linked devices and the problem.
  async function fetchNames(t, events) {
    const deviceIds = new Set(t.device_ids);
    const ticketIds = new Set([t.problem_id, t.merged_into_id, ...t.related_ids].filter(Boolean));
    for (const e of events) {
      const d = e.changes && e.changes.device_ids;
      if (d) [...(d.before || []), ...(d.after || [])].forEach((x) => deviceIds.add(x));
      const p = e.changes && e.changes.problem_id;
      if (p && p.after) ticketIds.add(p.after);
    }
    await Promise.all([
      ...[...deviceIds].filter((did) => !devices.has(did)).map(async (did) => {
        devices.set(did, null);
        try {
          devices.set(did, (await api.get(`/api/v1/devices/${did}`)).device.hostname);
        } catch {
          // A removed device stays "device #id".
        }
      }),
      ...[...ticketIds].filter((tid) => !related.has(tid)).map(async (tid) => {
        try {
          const other = await api.get(`/api/v1/tickets/${tid}`);
          related.set(tid, { number: other.number, title: other.title, status: other.status });
        } catch {
          // Shown as "#id".
        }
      }),
    ]);
  }

  async function load() {
    const t = await api.get(`/api/v1/tickets/${id}`);
    if (t.catalog_item_id && catalogFields === null) {
      // By id: a request type retired since still names its fields.
      const item = await guarded(() => api.get(`/api/v1/catalog/${t.catalog_item_id}`));
      catalogFields = item ? item.fields : [];
    }
    timeline = await fetchTimeline(id);
    await fetchNames(t, timeline.events);
    if (!root.isConnected) return;
    if (JSON.stringify(t) !== JSON.stringify(ticket)) show(t);
    renderTimeline();
    remote.refresh(t); // not awaited: the page is usable before the device checks return
  }

  shortcuts(root, [
    { key: "r", label: "Write a reply", run: () => box.focus() },
    { key: "a", label: "Assign this ticket to me", run: assignToMe },
    { key: "x", label: "Resolve (with a note and a code)", run: () => {
      if (ticket && !FINAL_STATUSES.has(ticket.status) && ticket.status !== "resolved") changeStatus("resolved");
    } },
    { key: "m", label: "Merge into another ticket", run: merge },
    { key: "s", label: "Split a new ticket off this one", run: split },
    { key: "l", label: "Relate another ticket", run: relate },
    { key: "c", label: "Insert a canned response into the reply", run: insertCanned },
    { key: "Escape", label: "Back to the queue", run: () => { location.hash = "#/desk"; } },
  ]);

  root.append(h("div", { class: "ticket-nav" },
    h("a", { class: "back-link", href: "#/desk" }, icon("back"), "Queue"),
    h("span", { class: "inline" }, liveIndicator(root), helpButton())), header);
  replace(header, h("p", { class: "muted panel-body" }, "Loading\u2026"));

  (async () => {
    const ok = await guarded(async () => {
      const [userList, groupList, categoryItems] = await Promise.all([allUsers(), allGroups(), categoryList()]);
      for (const u of userList) users.set(u.id, u);
      for (const g of groupList) groups.set(g.id, g.name);
      categories = categoryItems;
      await load();
      return true;
    });
    if (!ok || !ticket) {
      replace(header, emptyState("ticket", "This ticket cannot be shown",
        "It may not exist, or the server could not be reached.",
        h("a", { class: "btn", href: "#/desk" }, "Back to the queue")));
      return;
    }
    if (!root.isConnected) return;
    root.append(h("div", { class: "ticket-layout" },
      h("div", { class: "ticket-main" },
        panel("Conversation", [description, list], { cls: "panel-conversation" }),
        panel(null, box.el, { cls: "panel-composer" })),
      side));
    const refreshSoon = debounce(() => guarded(load), 300);
    onLive(root, {
      onTicket: (message) => { if (message.id === id) refreshSoon(); },
      onResync: refreshSoon,
    });
  })();
}
