// The requester portal: "My tickets" (and requests waiting for my approval) on the left; on
// the right a welcome, the New ticket form (with the service catalog's request types and
// their forms), or one ticket with its public conversation, a reply box, its approval
// state, and Reopen / Confirm & close once it is resolved. Follows the live feed.

import { api } from "../api.js";
import { branding } from "../branding.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { onSubmit as handleSubmit } from "../forms.js";
import { ago, dateTime } from "../format.js";
import { labels, t } from "../i18n.js";
import { icon } from "../icons.js";
import { debounce, liveIndicator, onLive } from "../live.js";
import { clearNotice, guarded, showError, showSuccess } from "../notice.js";
import { articleBody, goWithNotice, snippetNodes } from "../kb.js";
import { ticketArticles } from "../kb_ticket.js";
import { ratingPanel } from "../rating_form.js";
import { myDevicesPanel } from "../person_devices.js";
import { attachmentList, composer, fetchTimeline, uploadFile } from "../ticket_parts.js";
import { FINAL_STATUSES, STATUS_LABELS, categoryList, categorySelect, resolutionLabel, ticketStatusBadge } from "../tickets.js";
import { approvalDialog, approvalState, formFacts } from "../ticket_actions.js";
import { syncTimeline } from "../timeline.js";
import { emptyState, iconButton, openModal, panel } from "../ui.js";

const PAGE_SIZE = 50;
let cached = null; // the last list shown, drawn at once when the portal is entered again

/** Fill the Portal view; params are ["new"] for the form (["new", device id] about one
 * of My devices), or [undefined, undefined, ticket id]. */
export function portalView(root, { user, params, setTitle }) {
  const creating = params[0] === "new";
  const openId = params[2] ? Number(params[2]) : null;
  const aboutDevice = creating && params[1] ? Number(params[1]) : null; // from My devices
  let tickets = cached ? cached.items : [];
  let cursor = cached ? cached.cursor : null;
  let loaded = false;

  const list = h("ul", { class: "ticket-list", "aria-label": t("nav.portal") });
  const loadMore = h("button", { type: "button", class: "btn btn-small", hidden: true, onclick: () => more() },
    t("common.load_more"));
  const detail = h("div", { class: "portal-detail" });

  function item(tk) {
    return h("li", {}, h("a", { href: `#/portal/tickets/${tk.id}`, class: "ticket-item", "data-id": tk.id,
      "data-number": tk.number, "aria-current": tk.id === openId ? "page" : null },
    h("span", { class: "ticket-item-top" }, h("span", { class: "mono small muted" }, tk.number),
      ticketStatusBadge(tk.status)),
    h("span", { class: "ticket-item-title" }, tk.title),
    h("span", { class: "small muted", title: dateTime(tk.updated_at) }, t("device.updated", { ago: ago(tk.updated_at) }))));
  }

  function renderList() {
    if (!tickets.length) {
      replace(list, h("li", { class: "list-empty" }, loaded || cached ? t("portal.no_tickets") : t("common.loading")));
    } else {
      replace(list, tickets.map(item));
    }
    loadMore.hidden = !cursor;
  }

  async function more() {
    const data = await guarded(() => api.get("/api/v1/tickets", { sort: "-updated", limit: PAGE_SIZE, cursor,
      requester_id: user.id })); // staff's "My requests": theirs only, like a requester's list
    if (!data) return;
    const known = new Set(tickets.map((tk) => tk.id));
    tickets = tickets.concat(data.items.filter((tk) => !known.has(tk.id)));
    cursor = data.next_cursor;
    renderList();
  }

  // Requests others raised that wait for my decision (most people have none).
  const approvals = h("section", { class: "panel portal-approvals", hidden: true },
    h("header", { class: "panel-head" }, h("h2", { class: "panel-title" }, t("portal.awaiting_approval"))),
    h("div", { class: "panel-body" }));
  async function refreshApprovals() {
    const data = await api.get("/api/v1/tickets", { view: "awaiting_my_approval", limit: 20 });
    if (!root.isConnected) return;
    approvals.hidden = !data.items.length;
    replace(approvals.querySelector(".panel-body"),
      h("ul", { class: "ticket-list", "aria-label": t("portal.awaiting_approval") }, data.items.map(item)));
  }

  async function refreshList() {
    refreshApprovals().catch(() => {}); // the list below reports errors; this one is extra
    const want = Math.max(PAGE_SIZE, tickets.length);
    const data = await api.get("/api/v1/tickets", { sort: "-updated", limit: Math.min(200, want),
      requester_id: user.id });
    if (!root.isConnected) return;
    tickets = data.items;
    cursor = data.next_cursor;
    loaded = true;
    cached = { items: tickets, cursor };
    renderList();
  }

  const newButton = h("a", { class: "btn btn-primary btn-small", href: "#/portal/new" }, icon("plus"), t("portal.new_ticket"));
  // The welcome an admin wrote (Admin → Branding), as plain text.
  if (branding().welcome_text) root.append(h("p", { class: "portal-welcome" }, branding().welcome_text));
  // On a phone the open ticket (or the new one) has the screen; this leads back to the list.
  const back = creating || openId ? h("a", { class: "back-link portal-back", href: "#/portal" }, icon("back"),
    t("portal.all_my_tickets")) : null;
  root.append(h("div", { class: `portal${back ? " portal-focused" : ""}` }, back,
    h("div", { class: "portal-side" }, approvals, h("section", { class: "panel portal-list" },
      h("header", { class: "panel-head" }, h("h2", { class: "panel-title" }, t("nav.portal")),
        h("div", { class: "panel-actions" }, newButton)),
      h("div", { class: "panel-body" }, list),
      h("footer", { class: "panel-foot" }, liveIndicator(root), loadMore)),
    myDevicesPanel(user)),
    detail));
  renderList();

  let onTicketShown = null; // the open ticket's refresh, if one is shown
  const refreshSoon = debounce(() => guarded(refreshList), 300);
  onLive(root, {
    onTicket: (message) => {
      refreshSoon();
      if (onTicketShown && message.id === openId) onTicketShown();
    },
    onResync: () => {
      refreshSoon();
      if (onTicketShown) onTicketShown();
    },
  });
  guarded(refreshList);

  if (creating) {
    setTitle(t("portal.new_ticket"));
    newTicketForm(detail, aboutDevice, user);
  } else if (openId) {
    onTicketShown = portalTicket(detail, { user, id: openId, setTitle, root, onChanged: refreshSoon });
  } else {
    replace(detail, panel(null, emptyState("ticket", t("portal.hello", { name: user.display_name }), t("portal.welcome"),
      h("a", { class: "btn btn-primary", href: "#/portal/new" }, icon("plus"), t("portal.raise"))),
    { cls: "panel-welcome" }));
  }
}

// ---------- New ticket ----------

const APPROVAL_NOTES = labels("portal.approval_note", ["approver", "group_manager"]);

/** The controls of a catalog item's own form fields (named "f_<name>"). */
function catalogFields(item) {
  return item.fields.map((f) => {
    const name = `f_${f.name}`;
    const required = f.required || null;
    if (f.type === "checkbox") {
      return h("label", { class: "check" }, h("input", { type: "checkbox", name, "data-field": f.name, required }),
        f.label);
    }
    let control;
    if (f.type === "textarea") control = h("textarea", { name, rows: 3, maxlength: 5000, required });
    else if (f.type === "select") {
      control = h("select", { name, required }, h("option", { value: "" }, t("portal.choose")),
        f.options.map((o) => h("option", { value: o }, o)));
    } else if (f.type === "number") control = h("input", { type: "number", name, step: "any", required });
    else if (f.type === "date") control = h("input", { type: "date", name, required });
    else control = h("input", { name, maxlength: 5000, required });
    control.dataset.field = f.name;
    return field(f.required ? f.label : t("portal.optional_field", { label: f.label }), control);
  });
}

/** Return the values of a catalog form, typed as the fields say (empty optional ones left out). */
function catalogValues(form, item) {
  const values = {};
  for (const f of item.fields) {
    const el = form.elements[`f_${f.name}`];
    if (!el) continue;
    if (f.type === "checkbox") values[f.name] = el.checked;
    else if (el.value.trim() === "") continue;
    else values[f.name] = f.type === "number" ? Number(el.value) : el.value.trim();
  }
  return values;
}

function newTicketForm(host, deviceId = null, me = null) {
  let items = [];
  let chosen = null; // the catalog item being requested, if any
  const suggestions = deflection(() => `${form.elements.title.value} ${form.elements.description.value}`);
  const kindChoice = (value, title, text, checked) => h("label", { class: "choice" },
    h("input", { type: "radio", name: "kind", value, checked }),
    h("span", { class: "choice-text" }, h("strong", {}, title), h("span", { class: "muted small" }, text)));
  const category = h("div", { hidden: true });
  const requestType = h("div", { hidden: true });
  const itemPart = h("div", { class: "stack catalog-form", hidden: true });
  const file = h("input", { type: "file", name: "file" });
  // A phone's camera, straight into the ticket (other browsers offer their file chooser).
  const photo = h("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" });
  const title = h("input", { name: "title", required: true, maxlength: 200,
    placeholder: t("portal.title_placeholder") });
  const about = h("p", { class: "about-device", hidden: true });
  const form = h("form", { class: "stack", "aria-label": t("portal.new_ticket") },
    about,
    h("fieldset", { class: "choices" }, h("legend", { class: "field-label" }, t("portal.about")),
      kindChoice("incident", t("portal.kind_incident"), t("portal.kind_incident_text"), true),
      kindChoice("service_request", t("portal.kind_request"), t("portal.kind_request_text"), false)),
    requestType,
    itemPart,
    field(t("portal.title"), title),
    field(t("ticket.description"), h("textarea", { name: "description", rows: 7, maxlength: 20000,
      placeholder: t("portal.description_placeholder") })),
    suggestions.el,
    category,
    field(t("composer.attach"), file, t("portal.attach_hint")),
    h("div", { class: "camera-only" }, field(t("portal.take_photo"), photo)),
    h("div", { class: "form-actions" },
      h("a", { class: "btn", href: "#/portal" }, t("common.cancel")),
      h("button", { type: "submit", class: "btn btn-primary" }, icon("send"), t("portal.submit"))));

  function choose(itemId) {
    chosen = items.find((i) => i.id === itemId) || null;
    itemPart.hidden = !chosen;
    category.hidden = !!chosen || !category.firstChild;
    title.required = !chosen;
    title.placeholder = chosen ? t("portal.title_optional", { name: chosen.name })
      : t("portal.title_placeholder");
    if (!chosen) {
      replace(itemPart);
      return;
    }
    replace(itemPart,
      chosen.description ? h("p", { class: "catalog-description" }, chosen.description) : null,
      catalogFields(chosen),
      APPROVAL_NOTES[chosen.approval] ? h("p", { class: "approval approval-requested" }, icon("history"),
        APPROVAL_NOTES[chosen.approval]) : null);
  }

  function showRequestTypes() {
    const wantsSomething = form.elements.kind.value === "service_request";
    requestType.hidden = !wantsSomething || !items.length;
    if (!wantsSomething) choose(null);
    else if (form.elements.request_type) choose(Number(form.elements.request_type.value) || null);
  }
  form.addEventListener("change", (event) => {
    if (event.target.name === "kind") showRequestTypes();
    if (event.target.name === "request_type") choose(Number(event.target.value) || null);
  });

  handleSubmit(form, async () => {
    const v = formValues(form);
    const chosenFiles = [file, photo].map((input) => input.files && input.files[0]).filter(Boolean);
    let created;
    if (chosen) {
      const body = { values: catalogValues(form, chosen), description: v.description };
      if (v.title) body.title = v.title;
      created = await api.post(`/api/v1/catalog/${chosen.id}/requests`, body);
    } else {
      const body = { title: v.title, description: v.description, kind: v.kind };
      if (v.category_id) body.category_id = Number(v.category_id);
      if (deviceId) body.device_ids = [deviceId];
      created = await api.post("/api/v1/tickets", body);
    }
    suggestions.filed();
    try {
      for (const chosenFile of chosenFiles) await uploadFile(created.id, chosenFile);
    } catch (error) {
      location.hash = `#/portal/tickets/${created.id}`;
      showError(t("portal.file_failed", { number: created.number, error: error.message }));
      return;
    }
    location.hash = `#/portal/tickets/${created.id}`;
  });
  form.elements.title.addEventListener("input", suggestions.typed);
  form.elements.description.addEventListener("input", suggestions.typed);
  replace(host, panel(t("portal.new_ticket"), form, { cls: "panel-new-ticket" }));
  title.focus();
  (async () => {
    const [categories, catalog, mine] = await Promise.all([guarded(categoryList),
      guarded(() => api.get("/api/v1/catalog")), deviceId ? guarded(() => api.get(`/api/v1/users/${me.id}/devices`)) : null]);
    if (!form.isConnected) return;
    const device = mine ? mine.items.find((d) => d.id === deviceId) : null;
    if (device) replace(about, icon("monitor"), " ", t("mydevices.about", { name: device.hostname }));
    else deviceId = null; // not (or no longer) theirs: an ordinary ticket
    about.hidden = !device;
    if (categories && categories.length) {
      replace(category, field(t("ticket.category"), categorySelect(categories, null), t("portal.category_hint")));
      category.hidden = !!chosen;
    }
    items = catalog ? catalog.items.filter((i) => i.active) : [];
    if (items.length) {
      replace(requestType, field(t("portal.request_type"), h("select", { name: "request_type" },
        h("option", { value: "" }, t("portal.something_else")),
        items.map((i) => h("option", { value: String(i.id) }, i.name))),
      t("portal.request_type_hint")));
      showRequestTypes();
    }
  })();
}

// ---------- Articles that may solve it (deflection) ----------

const SUGGEST_CHARS = 200; // what /api/v1/kb/suggest takes

/**
 * Public articles matching what the requester types, each with "This solved my problem",
 * which records a deflection and ends there: no ticket is created.
 * `text()` returns what was typed; call `typed` on every input. Returns {el, typed}.
 */
function deflection(text) {
  const list = h("div", { class: "kb-suggestion-list" });
  const el = h("section", { class: "kb-suggestions", hidden: true, "aria-label": t("portal.suggested"),
    "aria-live": "polite" }, h("h3", {}, icon("check"), ` ${t("portal.may_solve")}`), list);
  let seq = 0;
  let last = "";
  let shown = false;

  function query() {
    return text().replace(/\s+/g, " ").trim().slice(0, SUGGEST_CHARS);
  }

  async function solved(article) {
    clearNotice();
    const done = await guarded(() => api.post(`/api/v1/kb/articles/${article.id}/deflections`,
      { query: query() }));
    if (!done) return;
    goWithNotice("#/portal", t("portal.deflected", { title: article.title }));
  }

  async function read(article, host, button) {
    if (!host.hidden) {
      host.hidden = true;
      button.textContent = t("portal.read_here");
      return;
    }
    const full = await guarded(() => api.get(`/api/v1/kb/articles/${article.id}`));
    if (!full) return;
    replace(host, articleBody(full.body_html));
    host.hidden = false;
    button.textContent = t("portal.hide");
  }

  function card(hit) {
    const a = hit.article;
    const body = h("div", { class: "kb-preview", hidden: true });
    const readButton = h("button", { type: "button", class: "btn btn-small" }, t("portal.read_here"));
    readButton.addEventListener("click", () => read(a, body, readButton));
    return h("article", { class: "kb-suggestion", "data-id": a.id },
      h("strong", {}, a.title),
      h("p", { class: "kb-snippet small" }, snippetNodes(hit.snippet)),
      body,
      h("div", { class: "kb-suggestion-actions" }, readButton,
        h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => solved(a) },
          icon("check"), t("portal.solved"))));
  }

  const typed = debounce(async () => {
    const q = query();
    if (q === last) return;
    last = q;
    const mine = ++seq;
    if (q.length < 3) {
      el.hidden = true;
      replace(list);
      return;
    }
    let data;
    try {
      data = await api.get("/api/v1/kb/suggest", { q });
    } catch {
      return; // suggestions are a help; a failure must not get in the way of the ticket
    }
    if (mine !== seq || !el.isConnected) return;
    replace(list, data.items.map(card));
    el.hidden = !data.items.length;
    if (data.items.length && !shown) {
      // Counted once per form for the dashboards' deflection chart; a failure is no matter.
      shown = true;
      api.post("/api/v1/reports/suggestions", { outcome: "shown" }).catch(() => {});
    }
  }, 350);

  /** Count the form as filed after suggestions were shown (deflection: it was not). */
  function filed() {
    if (shown) api.post("/api/v1/reports/suggestions", { outcome: "filed" }).catch(() => {});
  }

  return { el, typed, filed };
}

// ---------- One ticket ----------

/** Show one of the requester's tickets in `host`; return its refresh function. */
function portalTicket(host, { user, id, setTitle, root, onChanged }) {
  let ticket = null;
  let fields = null; // a catalog request's form fields (labels)
  let timeline = { events: [], attachments: [] };
  const header = h("section", { class: "panel ticket-head" });
  const banner = h("div", { hidden: true });
  const rating = h("div");
  let rated = null; // the status the survey panel was drawn for
  const description = h("div", { class: "ticket-description" });
  const list = h("ol", { class: "tl", "aria-label": t("ticket.timeline") });
  const files = h("div");
  const articles = ticketArticles(id, { staff: false });
  const box = composer({
    staff: false,
    placeholder: t("portal.reply_placeholder"),
    onSend: async (body) => {
      await api.post(`/api/v1/tickets/${id}/comments`, { body });
      await load();
      showSuccess(t("ticket.reply_sent"));
    },
    onAttach: async (file) => {
      const stored = await uploadFile(id, file);
      await load();
      showSuccess(t("ticket.attached", { name: stored.filename }));
    },
  });

  function render() {
    const tk = ticket;
    setTitle(tk.number);
    replace(header,
      h("div", { class: "ticket-head-top" },
        h("div", { class: "ticket-badges" }, h("span", { class: "mono ticket-number" }, tk.number),
          tk.former_numbers.length ? h("span", { class: "muted small former-numbers" },
            t("portal.formerly", { numbers: tk.former_numbers.join(", ") })) : null,
          ticketStatusBadge(tk.status)),
        h("span", { class: "ticket-assignee" + (tk.assignee ? "" : " muted") }, icon("user"),
          tk.assignee ? [`${t("portal.handled_by")} `, h("strong", {}, tk.assignee.display_name)] : t("portal.not_assigned"))),
      h("h2", { class: "ticket-title" }, tk.title),
      h("p", { class: "ticket-meta" },
        tk.requester.id === user.id ? `${t("portal.opened")} ` : `${t("ticket.opened_by")} ${tk.requester.display_name} `,
        dateTime(tk.created_at),
        h("span", { title: dateTime(tk.updated_at) }, ` \u00b7 ${t("ticket.updated_ago", { ago: ago(tk.updated_at) })}`)),
      approvalState(tk),
      formFacts(tk, fields),
      tk.approval === "requested" && tk.approver && tk.approver.id === user.id ? h("div", { class: "form-actions approval-actions" },
        iconButton("x", t("ticket.reject_action"), { class: "btn btn-danger", onclick: () => decide("reject") }),
        iconButton("check", t("ticket.approve_action"), { class: "btn btn-primary", onclick: () => decide("approve") })) : null);
    replace(description, h("article", { class: "tl-card tl-description", "aria-label": t("ticket.description") },
      h("header", { class: "tl-head" }, h("span", { class: "tl-author" }, t("portal.your_description")),
        h("time", { class: "tl-time", datetime: tk.created_at }, dateTime(tk.created_at))),
      h("div", { class: "tl-text" }, tk.description || h("span", { class: "muted" }, t("ticket.no_description")))));
    if (tk.status === "resolved") {
      banner.hidden = false;
      replace(banner, h("div", { class: "resolved-banner", role: "region", "aria-label": t("ticket.status.resolved") },
        h("div", { class: "resolved-icon" }, icon("check")),
        h("div", { class: "resolved-text" },
          h("strong", {}, tk.resolution_code ? t("portal.resolved_with", { code: resolutionLabel(tk.resolution_code) })
            : t("portal.resolved")),
          tk.resolution_note ? h("p", { class: "tl-text" }, tk.resolution_note) : null,
          h("p", { class: "muted small" }, t("portal.resolved_question"))),
        h("div", { class: "resolved-actions" },
          iconButton("reopen", t("portal.reopen"), { onclick: reopen }),
          iconButton("check", t("portal.confirm_close"), { class: "btn btn-primary", onclick: confirmClose }))));
    } else {
      banner.hidden = true;
      replace(banner);
    }
    // The requester rates their resolved (or closed) ticket here; others read no survey.
    const rateable = (tk.status === "resolved" || tk.status === "closed") && tk.requester.id === user.id;
    if ((rateable ? tk.status : null) !== rated) {
      rated = rateable ? tk.status : null;
      replace(rating, rateable ? ratingPanel(tk.id) : null);
    }
    box.setClosed(FINAL_STATUSES.has(tk.status)
      ? t("portal.closed_box", { status: STATUS_LABELS[tk.status].toLowerCase() }) : null);
  }

  function renderTimeline() {
    syncTimeline(list, timeline.events, { staff: false, me: user.id, requesterId: ticket.requester.id,
      names: null, attachments: timeline.attachments });
    replace(files, attachmentList(timeline.attachments, { staff: false }));
  }

  async function decide(decision) {
    const updated = await approvalDialog(ticket, decision);
    if (!updated) return;
    await guarded(load);
    onChanged();
    showSuccess(t(decision === "approve" ? "ticket.approved_msg" : "ticket.rejected_msg", { number: updated.number }));
  }

  async function load() {
    const tk = await api.get(`/api/v1/tickets/${id}`);
    if (tk.catalog_item_id && fields === null) {
      // By id: a request type retired since still names its fields.
      const item = await guarded(() => api.get(`/api/v1/catalog/${tk.catalog_item_id}`));
      fields = item ? item.fields : [];
    }
    timeline = await fetchTimeline(id);
    if (!host.isConnected) return;
    if (JSON.stringify(tk) !== JSON.stringify(ticket)) {
      ticket = tk;
      render();
      articles.refresh(tk.status);
    }
    renderTimeline();
  }

  async function confirmClose() {
    clearNotice();
    const updated = await guarded(() => api.post(`/api/v1/tickets/${id}/close`));
    if (!updated) return;
    await guarded(load);
    onChanged();
    showSuccess(t("portal.closed_msg", { number: updated.number }));
  }

  function reopen() {
    const form = h("form", { class: "stack", "aria-label": t("portal.reopen_ticket") },
      field(t("portal.still_wrong"), h("textarea", { name: "reason", rows: 4, required: true, maxlength: 20000 }),
        t("portal.reopen_hint")),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, t("common.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, icon("reopen"), t("portal.reopen_ticket"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      const v = formValues(form);
      try {
        const updated = await busy(form, () => api.post(`/api/v1/tickets/${id}/reopen`, { reason: v.reason }));
        dialog.close();
        await guarded(load);
        onChanged();
        showSuccess(t("portal.reopened_msg", { number: updated.number }));
      } catch (error) {
        showError(error);
      }
    });
    const dialog = openModal(t("portal.reopen_named", { number: ticket.number }), form);
    form.elements.reason.focus();
  }

  replace(host, h("p", { class: "muted" }, t("common.loading")));
  (async () => {
    const ok = await guarded(async () => {
      await load();
      return true;
    });
    if (!ok || !ticket) {
      replace(host, panel(null, emptyState("ticket", t("ticket.cannot_show"), t("ticket.cannot_show_text"),
        h("a", { class: "btn", href: "#/portal" }, t("portal.back")))));
      return;
    }
    if (!root.isConnected) return;
    replace(host, h("div", { class: "stack-lg" }, header, banner, rating,
      panel(t("ticket.conversation"), [description, list], { cls: "panel-conversation" }),
      panel(null, box.el, { cls: "panel-composer" }),
      articles.el,
      panel(t("portal.files"), files)));
  })();
  return debounce(() => guarded(load), 300);
}
