// One ticket on the Desk: header, conversation with internal notes, composer, and the side
// panel where a technician sets status, assignee, group, impact/urgency, category, tags,
// linked devices and related tickets, and acts: resolve, merge, split, approve. Follows the
// live feed; keyboard: r reply, a assign to me, x resolve, m merge, s split, l relate,
// c canned response, Esc queue.

import { api } from "../api.js";
import { allGroups, allUsers } from "../directory.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { ago, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { icon } from "../icons.js";
import { ticketArticles } from "../kb_ticket.js";
import { helpButton, shortcuts } from "../keys.js";
import { debounce, liveIndicator, onLive } from "../live.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { requesterDevicesPanel } from "../person_devices.js";
import { attachmentList, composer, fetchTimeline, uploadFile } from "../ticket_parts.js";
import {
  FINAL_STATUSES, KIND_LABELS, LEVEL_LABELS, SOURCE_LABELS, STATUS_LABELS, TRANSITIONS,
  PRIORITY_LABELS, categoryList, categorySelect, kindBadge, parseTags, priorityBadge, reportedBy,
  resolutionCodes, resolutionLabel, ticketStatusBadge,
} from "../tickets.js";
import { slaClocks } from "../sla.js";
import {
  approvalDialog, approvalState, cannedDialog, formFacts, linkDialog, mergeDialog, splitDialog,
} from "../ticket_actions.js";
import { remotePanel } from "../remote_panel.js";
import { problemPanel, resolveProblemDialog, satisfactionPanel } from "../problem_panel.js";
import { toolboxPanel } from "../toolbox_panel.js";
import { syncTimeline } from "../timeline.js";
import { confirmDialog, emptyState, openModal, panel } from "../ui.js";

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
    user: (uid) => (users.get(uid) ? users.get(uid).display_name : t("names.user", { id: uid })),
    group: (gid) => groups.get(gid) || t("names.group", { id: gid }),
    category: (cid) => (categories.find((c) => c.id === cid) || { label: t("names.category", { id: cid }) }).label,
    device: (did) => devices.get(did) || t("names.device", { id: did }), // hostnames come with the ticket
    ticket: (tid) => (related.get(tid) ? related.get(tid).number : `#${tid}`),
  };

  const header = h("section", { class: "panel ticket-head" });
  const description = h("div", { class: "ticket-description" });
  const list = h("ol", { class: "tl", "aria-label": t("ticket.timeline") });
  const side = h("div", { class: "ticket-side" });
  const files = h("div");
  const cannedButton = h("button", { type: "button", class: "btn btn-ghost", "aria-keyshortcuts": "c",
    onclick: () => insertCanned() }, icon("copy"), t("ticket.canned"));
  const articles = ticketArticles(id, { staff: true, onSent: () => guarded(load) });
  const remote = remotePanel();
  const requesterDevices = requesterDevicesPanel();
  const toolbox = toolboxPanel();
  const box = composer({
    staff: true,
    tools: cannedButton,
    onSend: async (body, internal) => {
      await api.post(`/api/v1/tickets/${id}/comments`, { body, internal });
      await load();
      showSuccess(internal ? t("ticket.note_added") : t("ticket.reply_sent"));
    },
    onAttach: async (file, internal) => {
      const stored = await uploadFile(id, file, { internal });
      await load();
      showSuccess(t(internal ? "ticket.attached_internal" : "ticket.attached", { name: stored.filename }));
    },
  });

  // ---------- rendering ----------
  function renderHeader() {
    const tk = ticket;
    replace(header,
      h("div", { class: "ticket-head-top" },
        h("div", { class: "ticket-badges" }, priorityBadge(tk.priority),
          h("span", { class: "mono ticket-number" }, tk.number), kindBadge(tk.kind), ticketStatusBadge(tk.status)),
        tk.assignee ? h("span", { class: "ticket-assignee" }, icon("user"), tk.assignee.display_name)
          : h("span", { class: "ticket-assignee muted" }, icon("user"), t("ticket.unassigned"))),
      h("h2", { class: "ticket-title" }, tk.title),
      h("p", { class: "ticket-meta" },
        t("ticket.opened_by"), " ", h("strong", {}, tk.requester.display_name), ` \u00b7 ${dateTime(tk.created_at)}`,
        ` \u00b7 ${t("ticket.via", { source: SOURCE_LABELS[tk.source] || tk.source })}`,
        tk.reported ? h("span", { class: "ticket-reported" }, ` \u00b7 ${reportedBy(
          tk.reported.device && tk.reported.device.hostname, tk.reported.login)}`) : null,
        h("span", { title: dateTime(tk.updated_at) }, ` \u00b7 ${t("ticket.updated_ago", { ago: ago(tk.updated_at) })}`)),
      tk.merged_into_id ? h("p", { class: "ticket-note merged-ref" }, icon("link"), t("ticket.merged_into"), " ",
        h("a", { href: `#/desk/tickets/${tk.merged_into_id}` }, names.ticket(tk.merged_into_id)),
        related.get(tk.merged_into_id) ? ` \u2013 ${related.get(tk.merged_into_id).title}` : null, ".") : null,
      approvalState(tk));
    setTitle(tk.number);
  }

  function renderDescription() {
    replace(description, h("article", { class: "tl-card tl-description", "aria-label": t("ticket.description") },
      h("header", { class: "tl-head" }, h("span", { class: "tl-author" }, ticket.requester.display_name),
        h("span", { class: "muted small" }, t("ticket.described")),
        h("time", { class: "tl-time", datetime: ticket.created_at }, dateTime(ticket.created_at))),
      h("div", { class: "tl-text" }, ticket.description || h("span", { class: "muted" }, t("ticket.no_description")))));
  }

  function renderTimeline() {
    syncTimeline(list, timeline.events, { staff: true, me: user.id, requesterId: ticket.requester.id,
      names, attachments: timeline.attachments });
    replace(files, attachmentList(timeline.attachments, { staff: true }));
  }

  // The side panel: each control saves on change.
  function renderSide() {
    const tk = ticket;
    const final = FINAL_STATUSES.has(tk.status);
    const focused = side.contains(document.activeElement) ? document.activeElement.name : null;
    const typedTag = side.querySelector("input[name=tag]")?.value || ""; // kept across live redraws
    const staffUsers = [...users.values()].filter((u) => u.role !== "requester" && (u.active || u.id === (tk.assignee && tk.assignee.id)))
      .sort((a, b) => a.display_name.localeCompare(b.display_name));

    const status = h("select", { name: "status", disabled: final || null },
      [tk.status, ...TRANSITIONS[tk.status]].map((st) => h("option", { value: st, selected: st === tk.status },
        st === tk.status ? STATUS_LABELS[st] : `\u2192 ${STATUS_LABELS[st]}`)));
    status.addEventListener("change", () => changeStatus(status.value));

    const assignee = h("select", { name: "assignee_id", disabled: final || null },
      h("option", { value: "", selected: !tk.assignee }, t("ticket.unassigned")),
      staffUsers.map((u) => h("option", { value: String(u.id), selected: tk.assignee && tk.assignee.id === u.id },
        u.id === user.id ? t("ticket.me", { name: u.display_name }) : u.display_name)));
    assignee.addEventListener("change", () => save({ assignee_id: assignee.value ? Number(assignee.value) : null }));

    const group = h("select", { name: "group_id", disabled: final || null },
      h("option", { value: "", selected: !tk.group_id }, t("enrollment.no_group")),
      [...groups].map(([gid, name]) => h("option", { value: String(gid), selected: gid === tk.group_id }, name)));
    group.addEventListener("change", () => save({ group_id: group.value ? Number(group.value) : null }));

    const level = (name) => {
      const select = h("select", { name, disabled: final || null },
        [1, 2, 3].map((v) => h("option", { value: String(v), selected: v === tk[name] }, LEVEL_LABELS[v])));
      select.addEventListener("change", () => save({ [name]: Number(select.value) }));
      return select;
    };

    // A new kind takes a number of that kind (the old one stays findable): ask first.
    const kind = h("select", { name: "kind", disabled: final || tk.approval === "requested" || null },
      Object.entries(KIND_LABELS).map(([value, label]) => h("option", { value, selected: value === tk.kind }, label)));
    kind.addEventListener("change", () => changeKind(kind.value));

    const category = categorySelect(categories, tk.category_id, { disabled: final || null });
    category.addEventListener("change", () => save({ category_id: category.value ? Number(category.value) : null }));

    const tagInput = h("input", { name: "tag", maxlength: 50, placeholder: t("ticket.add_tag"), disabled: final || null,
      "aria-label": t("ticket.add_tag") });
    tagInput.value = typedTag;
    tagInput.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const added = parseTags(tagInput.value);
      tagInput.value = "";
      if (added.length) save({ tags: [...new Set([...tk.tags, ...added])] });
    });
    const tags = h("div", { class: "tag-editor" },
      tk.tags.length ? h("span", { class: "chips" }, tk.tags.map((tag) => h("span", { class: "chip chip-removable" },
        tag, final ? null : h("button", { type: "button", class: "chip-remove", "aria-label": t("ticket.remove_tag", { tag }),
          onclick: () => save({ tags: tk.tags.filter((x) => x !== tag) }) }, "\u00d7")))) : null,
      final ? (tk.tags.length ? null : h("span", { class: "muted" }, t("common.none"))) : tagInput);

    const linked = h("div", { class: "device-links" },
      tk.device_ids.length ? h("ul", { class: "link-list" }, tk.device_ids.map((did) => h("li", {},
        h("a", { href: `#/devices/${did}`, class: "inline-icon" }, icon("monitor"), names.device(did)),
        final ? null : h("button", { type: "button", class: "chip-remove",
          "aria-label": t("ticket.unlink_device", { name: names.device(did) }),
          onclick: () => save({ device_ids: tk.device_ids.filter((x) => x !== did) }) }, "\u00d7"))))
        : h("span", { class: "muted" }, t("common.none")),
      final ? null : h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: linkDevice },
        icon("link"), t("ticket.link_device")));

    const resolution = tk.resolution_code ? h("div", { class: "resolution" },
      h("div", { class: "resolution-head" }, icon("check"), t("ticket.resolution"), " ",
        h("strong", {}, resolutionLabel(tk.resolution_code))),
      tk.resolution_note ? h("p", { class: "tl-text" }, tk.resolution_note) : null) : null;

    const relatedList = h("div", { class: "related-links" },
      tk.related_ids.length ? h("ul", { class: "link-list", "aria-label": t("ticket.related") }, tk.related_ids.map((rid) => h("li", {},
        h("a", { href: `#/desk/tickets/${rid}`, class: "inline-icon", title: related.get(rid) ? related.get(rid).title : null },
          icon("ticket"), names.ticket(rid)),
        related.get(rid) ? h("span", { class: "muted small related-title" }, related.get(rid).title) : null,
        h("button", { type: "button", class: "chip-remove", "aria-label": t("ticket.unrelate", { name: names.ticket(rid) }),
          onclick: () => unrelate(rid) }, "\u00d7"))))
        : h("span", { class: "muted" }, t("common.none")),
      h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-keyshortcuts": "l", onclick: relate },
        icon("link"), t("ticket.relate")));

    // What the matrix made of impact and urgency (the server's matrix is authoritative).
    const matrix = h("p", { class: "matrix-result", "data-priority": tk.priority },
      `${t("ticket.matrix", { impact: tk.impact, urgency: tk.urgency })} \u2192 `, priorityBadge(tk.priority),
      ` ${PRIORITY_LABELS[tk.priority] || ""}`);

    const approver = tk.approval === "requested" && ((tk.approver && tk.approver.id === user.id) || user.role === "admin");
    const actions = h("div", { class: "ticket-actions" },
      !final && tk.status !== "resolved" ? h("button", { type: "button", class: "btn btn-small", "aria-keyshortcuts": "x",
        onclick: () => changeStatus("resolved") }, icon("check"), t("ticket.resolve_action")) : null,
      !final ? h("button", { type: "button", class: "btn btn-small", "aria-keyshortcuts": "m", onclick: merge },
        icon("link"), t("ticket.merge_action")) : null,
      h("button", { type: "button", class: "btn btn-small", "aria-keyshortcuts": "s", onclick: split },
        icon("plus"), t("ticket.split_action")),
      approver ? [
        h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => decide("approve") },
          icon("check"), t("ticket.approve_action")),
        h("button", { type: "button", class: "btn btn-small btn-danger", onclick: () => decide("reject") },
          icon("x"), t("ticket.reject_action"))] : null);

    const mine = tk.assignee && tk.assignee.id === user.id;
    replace(side,
      panel(t("ticket.actions"), actions),
      panel(t("ticket.details"), h("div", { class: "stack side-form" },
        field(t("ticket.status"), status),
        h("div", { class: "field" },
          h("div", { class: "field-row" }, h("label", { for: "side-assignee" }, t("ticket.assignee")),
            !mine && !final ? h("button", { type: "button", class: "link-button", "aria-keyshortcuts": "a",
              onclick: assignToMe }, icon("user_plus"), t("ticket.assign_to_me")) : null),
          assignee),
        field(t("enrollment.group"), group),
        field(t("ticket.kind"), kind),
        h("div", { class: "row-2" }, field(t("ticket.impact"), level("impact")), field(t("ticket.urgency"), level("urgency"))),
        matrix,
        field(t("ticket.category"), category),
        h("div", { class: "field" }, h("span", { class: "field-label" }, t("ticket.tags")), tags),
        h("div", { class: "field" }, h("span", { class: "field-label" }, t("ticket.linked_devices")), linked),
        h("div", { class: "field" }, h("span", { class: "field-label" }, t("ticket.related")), relatedList),
        resolution,
        tk.form ? h("div", { class: "field" }, h("span", { class: "field-label" }, t("ticket.request_form")),
          formFacts(tk, catalogFields)) : null,
        h("dl", { class: "facts facts-side" },
          h("dt", {}, t("ticket.requester")), h("dd", {}, tk.requester.display_name),
          tk.reported ? [h("dt", {}, t("ticket.reported_login")), h("dd", { class: "reported-login" },
            h("span", { class: "mono" }, tk.reported.login), ` ${t("ticket.on")} `,
            tk.reported.device ? h("a", { href: `#/devices/${tk.reported.device.id}` }, tk.reported.device.hostname)
              : t("ticket.removed_device"), h("span", { class: "muted small" }, ` ${t("ticket.as_reported")}`))] : null,
          h("dt", {}, t("ticket.kind")), h("dd", {}, KIND_LABELS[tk.kind] || tk.kind),
          tk.former_numbers.length ? [h("dt", {}, t("ticket.formerly")),
            h("dd", { class: "mono former-numbers" }, tk.former_numbers.join(", "))] : null,
          tk.problem_id ? [h("dt", {}, t("ticket.kind.problem")), h("dd", {}, h("a", { href: `#/desk/tickets/${tk.problem_id}`,
            title: related.get(tk.problem_id) ? related.get(tk.problem_id).title : null }, names.ticket(tk.problem_id)))]
            : null,
          h("dt", {}, t("enrollment.col.created")), h("dd", {}, dateTime(tk.created_at)),
          tk.resolved_at ? [h("dt", {}, t("ticket.status.resolved")), h("dd", {}, dateTime(tk.resolved_at))] : null,
          tk.closed_at ? [h("dt", {}, t("ticket.status.closed")), h("dd", {}, dateTime(tk.closed_at))] : null))),
      tk.kind === "problem" ? problemPanel(tk, { onSaved: (updated) => { show(updated); guarded(refreshTimeline); } })
        : null,
      tk.satisfaction || tk.satisfaction_flagged_at || tk.status === "resolved" || tk.status === "closed"
        ? satisfactionPanel(tk, { onChanged: () => guarded(load) }) : null,
      panel("SLA", slaClocks(tk.sla), { cls: "panel-sla" }),
      requesterDevices.el,
      panel(t("route.remote"), remote.el),
      panel(t("toolbox.title"), toolbox.el),
      panel(t("attachments.label"), files),
      articles.el);
    assignee.id = "side-assignee";
    if (focused) {
      const again = side.querySelector(`[name="${focused}"]`);
      if (again) again.focus();
    }
    box.setClosed(final ? t("ticket.closed_box", { status: STATUS_LABELS[tk.status].toLowerCase() }) : null);
  }

  function show(tk) {
    ticket = tk;
    for (const d of tk.devices || []) devices.set(d.id, d.hostname);
    renderHeader();
    renderDescription();
    renderSide();
    articles.refresh(tk.status);
    requesterDevices.show(tk.requester.id);
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
    const ok = await confirmDialog(t("ticket.change_kind.title", { number: before.number, kind: t(`ticket.kind_a.${kind}`) }),
      t("ticket.change_kind.text", { number: before.number, kind: KIND_LABELS[kind].toLowerCase() }),
      { confirmLabel: t("ticket.change_kind.confirm") });
    if (!ok) {
      renderSide();
      return;
    }
    const updated = await save({ kind });
    if (updated) showSuccess(t("ticket.renumbered", { before: before.number, after: updated.number }));
  }

  async function assignToMe() {
    if (!ticket || FINAL_STATUSES.has(ticket.status)) return;
    if (ticket.assignee && ticket.assignee.id === user.id) {
      showSuccess(t("ticket.already_yours", { number: ticket.number }));
      return;
    }
    const updated = await save({ assignee_id: user.id });
    if (updated) showSuccess(t("ticket.assigned_to_you", { number: updated.number }));
  }

  function changeStatus(next) {
    if (next !== "resolved") {
      save({ status: next });
      return;
    }
    if (ticket.kind === "problem") {
      // A problem resolves with its open incidents, whose requesters hear of it.
      resolveProblemDialog(ticket, { onDone: () => guarded(load), onCancel: renderSide });
      return;
    }
    let done = false;
    const form = h("form", { class: "stack", "aria-label": t("ticket.resolve_ticket") },
      field(t("ticket.resolution_code"), h("select", { name: "resolution_code", required: true },
        h("option", { value: "" }, t("ticket.choose_code")),
        resolutionCodes().map(([code, label]) => h("option", { value: code }, label)))),
      field(t("ticket.resolution_note"), h("textarea", { name: "resolution_note", rows: 4, required: true, maxlength: 20000,
        placeholder: t("ticket.resolution_placeholder") }), t("ticket.resolution_hint")),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, icon("check"), t("ticket.resolve_ticket"))));
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
        showSuccess(t("ticket.resolved_msg", { number: updated.number }));
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal(t("ticket.resolve_named", { number: ticket.number }), form,
      { onClose: () => { if (!done) renderSide(); } });
    form.elements.resolution_code.focus();
  }

  async function merge() {
    if (!ticket || FINAL_STATUSES.has(ticket.status)) return;
    const target = await mergeDialog(ticket);
    if (!target) return;
    related.set(target.id, { number: target.number, title: target.title });
    await guarded(load);
    showSuccess(t("ticket.merged_msg", { number: ticket.number, target: target.number }));
  }

  async function split() {
    if (!ticket) return;
    const created = await splitDialog(ticket);
    if (!created) return;
    showSuccess(t("ticket.split_msg", { number: created.number, source: ticket.number }));
    location.hash = `#/desk/tickets/${created.id}`;
  }

  async function relate() {
    if (!ticket) return;
    const updated = await linkDialog(ticket);
    if (!updated) return;
    await fetchNames(updated, timeline.events);
    show(updated);
    await guarded(refreshTimeline);
    showSuccess(t("ticket.related_msg", { number: ticket.number,
      other: names.ticket(updated.related_ids[updated.related_ids.length - 1]) }));
  }

  async function unrelate(rid) {
    clearNotice();
    const ok = await guarded(async () => {
      await api.delete(`/api/v1/tickets/${id}/links/${rid}`);
      return true;
    });
    if (!ok) return;
    await guarded(load);
    showSuccess(t("ticket.unrelated_msg", { number: names.ticket(rid) }));
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
    showSuccess(t(decision === "approve" ? "ticket.approved_msg" : "ticket.rejected_msg", { number: updated.number }));
  }

  function linkDevice() {
    const q = h("input", { type: "search", name: "q", placeholder: t("ticket.device_search"), maxlength: 200,
      "aria-label": t("devices.search") });
    const results = h("ul", { class: "pick-list", "aria-label": t("ticket.devices_found") });
    const form = h("form", { class: "stack", "aria-label": t("ticket.link_device") },
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
            if (updated) showSuccess(t("ticket.device_linked", { name: d.hostname, number: updated.number }));
          } }, linked ? t("ticket.linked") : t("ticket.link")));
      }) : h("li", { class: "list-empty" }, t("ticket.no_devices_match")));
    }
    q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 250); });
    form.addEventListener("submit", (e) => { e.preventDefault(); find(); });
    const dialog = openModal(t("ticket.link_device"), form);
    q.focus();
    find();
  }

  // ---------- loading ----------
  async function refreshTimeline() {
    timeline = await fetchTimeline(id);
    if (root.isConnected) renderTimeline();
  }

  // Names the timeline and side panel show for ids: linked devices and the problem.
  async function fetchNames(tk, events) {
    const deviceIds = new Set(tk.device_ids);
    const ticketIds = new Set([tk.problem_id, tk.merged_into_id, ...tk.related_ids].filter(Boolean));
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
    const tk = await api.get(`/api/v1/tickets/${id}`);
    if (tk.catalog_item_id && catalogFields === null) {
      // By id: a request type retired since still names its fields.
      const item = await guarded(() => api.get(`/api/v1/catalog/${tk.catalog_item_id}`));
      catalogFields = item ? item.fields : [];
    }
    timeline = await fetchTimeline(id);
    await fetchNames(tk, timeline.events);
    if (!root.isConnected) return;
    if (JSON.stringify(tk) !== JSON.stringify(ticket)) show(tk);
    renderTimeline();
    toolbox.refresh(tk);
    remote.refresh(tk); // not awaited: the page is usable before the device checks return
  }

  shortcuts(root, [
    { key: "r", label: t("ticket.key.r"), run: () => box.focus() },
    { key: "a", label: t("ticket.key.a"), run: assignToMe },
    { key: "x", label: t("ticket.key.x"), run: () => {
      if (ticket && !FINAL_STATUSES.has(ticket.status) && ticket.status !== "resolved") changeStatus("resolved");
    } },
    { key: "m", label: t("ticket.key.m"), run: merge },
    { key: "s", label: t("ticket.key.s"), run: split },
    { key: "l", label: t("ticket.key.l"), run: relate },
    { key: "c", label: t("ticket.key.c"), run: insertCanned },
    { key: "Escape", label: t("ticket.key.escape"), run: () => { location.hash = "#/desk"; } },
  ]);

  root.append(h("div", { class: "ticket-nav" },
    h("a", { class: "back-link", href: "#/desk" }, icon("back"), t("ticket.queue")),
    h("span", { class: "inline" }, liveIndicator(root), helpButton())), header);
  replace(header, h("p", { class: "muted panel-body" }, t("common.loading")));

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
      replace(header, emptyState("ticket", t("ticket.cannot_show"), t("ticket.cannot_show_text"),
        h("a", { class: "btn", href: "#/desk" }, t("ticket.key.escape"))));
      return;
    }
    if (!root.isConnected) return;
    root.append(h("div", { class: "ticket-layout" },
      h("div", { class: "ticket-main" },
        panel(t("ticket.conversation"), [description, list], { cls: "panel-conversation" }),
        panel(null, box.el, { cls: "panel-composer" })),
      side));
    const refreshSoon = debounce(() => guarded(load), 300);
    onLive(root, {
      onTicket: (message) => { if (message.id === id) refreshSoon(); },
      onResync: refreshSoon,
    });
  })();
}
