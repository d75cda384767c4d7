// A ticket's timeline: replies and internal notes as messages, other events as system lines.
// Bodies are user text: they go in as text nodes and keep their newlines through CSS.

import { h } from "./dom.js";
import { ago, bytes, dateTime, initials } from "./format.js";
import { has, t, tn } from "./i18n.js";
import { icon } from "./icons.js";
import { CLOCK_LABELS } from "./sla.js";
import { KIND_LABELS, STATUS_LABELS, reportedBy, resolutionLabel } from "./tickets.js";

// What a requester's timeline shows (the server sends requesters only these).
const PORTAL_TYPES = new Set(["created", "comment", "status_changed", "attachment", "merged",
  "merged_from", "split_from", "approval_requested", "approved", "rejected", "remote_session",
  "kind_changed", "tool_session", "script_run"]);



function kindName(kind) {
  return KIND_LABELS[kind] ? KIND_LABELS[kind].toLowerCase() : String(kind);
}

function actorName(event) {
  return event.actor ? event.actor.display_name : "Deskmate";
}

function when(at) {
  return h("time", { class: "tl-time", datetime: at, title: ago(at) }, dateTime(at));
}

function statusText(status) {
  return STATUS_LABELS[status] || String(status);
}

function arrow(before, after) {
  return [h("span", { class: "tl-before" }, before), " \u2192 ", h("span", { class: "tl-after" }, after)];
}

/**
 * Return the fragments ("assigned to Omar", "priority P3 → P2") that describe a change set.
 * `names` maps ids to names: {user(id), group(id), category(id), device(id), ticket(id)}.
 */
function describeChanges(changes, names, { staff }) {
  const parts = [];
  for (const [field, diff] of Object.entries(changes || {})) {
    if (!diff || typeof diff !== "object") continue;
    const { before, after } = diff;
    switch (field) {
      case "status":
        if (before !== null && before !== undefined) {
          parts.push(noun([`${t("tl.status")} `, ...arrow(statusText(before), statusText(after))]));
        }
        break;
      case "assignee_id":
        if (after === null) parts.push(t("tl.unassigned"));
        else parts.push([`${diff.auto ? t("tl.assigned_auto") : t("tl.assigned")} `,
          h("strong", {}, names.user(after))]);
        break;
      case "group_id":
        parts.push(after === null ? t("tl.group_removed") : [`${t("tl.group_moved")} `, h("strong", {}, names.group(after))]);
        break;
      case "category_id":
        parts.push(after === null ? t("tl.category_removed")
          : [`${t("tl.category_set")} `, h("strong", {}, names.category(after))]);
        break;
      case "priority":
        if (before !== null && before !== undefined) parts.push(noun([`${t("tl.priority")} `, ...arrow(`P${before}`, `P${after}`)]));
        break;
      case "impact":
      case "urgency":
        parts.push(noun([`${t(`tl.${field}`)} `, ...arrow(String(before), String(after))]));
        break;
      case "title":
        parts.push([`${t("tl.renamed")} \u201c`, h("strong", {}, String(after)), "\u201d"]);
        break;
      case "description":
        parts.push(t("tl.description_edited"));
        break;
      case "tags":
        parts.push(after && after.length ? [`${t("tl.tagged")} `, h("strong", {}, after.join(", "))] : t("tl.tags_removed"));
        break;
      case "device_ids": {
        const added = (after || []).filter((d) => !(before || []).includes(d));
        const removed = (before || []).filter((d) => !(after || []).includes(d));
        if (added.length) parts.push([`${t("tl.linked")} `, h("strong", {}, added.map(names.device).join(", "))]);
        if (removed.length) parts.push([`${t("tl.unlinked")} `, h("strong", {}, removed.map(names.device).join(", "))]);
        break;
      }
      case "problem_id":
        parts.push(after === null ? t("tl.problem_unlinked")
          : [`${t("tl.problem_linked")} `, h("a", { href: `#/desk/tickets/${after}` }, names.ticket(after))]);
        break;
      case "resolution_code":
      case "resolution_note":
        break; // shown with the status change that carries them
      case "root_cause":
      case "workaround":
        parts.push(t(after ? `tl.${field}_set` : `tl.${field}_removed`));
        break;
      case "known_error":
        parts.push(t(after ? "tl.known_error_on" : "tl.known_error_off"));
        break;
      case "incidents":
        parts.push(tn("tl.incidents_linked", (after || []).length));
        break;
      default:
        if (staff) parts.push(noun([field.replace(/_/g, " ")]));
    }
  }
  return parts;
}

// Fragments that name what changed ("priority P3 → P2") rather than say what was done;
// a line that starts with one reads "changed priority P3 → P2".
const NOUNS = new WeakSet();
function noun(fragment) {
  NOUNS.add(fragment);
  return fragment;
}

function joinParts(parts) {
  const out = parts.length && NOUNS.has(parts[0]) ? [`${t("tl.changed")} `] : [];
  parts.forEach((part, i) => {
    if (i) out.push(h("span", { class: "tl-sep", "aria-hidden": "true" }, " \u00b7 "));
    out.push(h("span", {}, part));
  });
  return out;
}

function systemLine(event, iconName, content, extra = null, cls = "") {
  return h("li", { class: `tl-item tl-system ${cls}`.trim(), "data-event": event.id, "data-type": event.type },
    h("span", { class: "tl-icon" }, icon(iconName)),
    h("div", { class: "tl-line" },
      h("div", { class: "tl-line-text" }, content, when(event.at)),
      extra));
}

function message(event, { me, staff, requesterId, attachments = [] }) {
  const internal = event.type === "internal_note";
  const mine = event.actor && event.actor.id === me;
  const fromRequester = event.actor && event.actor.id === requesterId;
  let cls = "tl-reply";
  if (internal) cls = "tl-internal";
  else if (fromRequester) cls = "tl-requester";
  return h("li", { class: `tl-item tl-message ${cls}`, "data-event": event.id, "data-type": event.type },
    h("span", { class: "tl-avatar", "aria-hidden": "true" }, initials(actorName(event))),
    h("article", { class: "tl-card", "aria-label": internal ? t("composer.internal") : t("composer.reply") },
      h("header", { class: "tl-head" },
        h("span", { class: "tl-author" }, actorName(event)),
        mine ? h("span", { class: "muted small" }, t("tl.you")) : null,
        internal ? h("span", { class: "tl-label" }, icon("lock"), t("attachments.internal")) : null,
        !internal && staff && !fromRequester ? h("span", { class: "tl-public" }, t("tl.public_reply")) : null,
        when(event.at)),
      h("div", { class: "tl-text" }, event.body || ""),
      mailOriginal(event, attachments)));
}

// A reply that came by e-mail keeps what it quoted (history, signature) apart, collapsed,
// and (for the desk, who may read internal files) links to the message as it arrived.
function mailOriginal(event, attachments) {
  const mail = (event.changes && event.changes.mail) || {};
  const raw = mail.raw_event_id ? attachments.find((a) => a.event_id === mail.raw_event_id) : null;
  const download = raw ? h("a", { href: raw.url, download: raw.filename, class: "tl-file small",
    "data-mail-raw": "" }, icon("paperclip"), t("timeline.mail_download")) : null;
  const original = mail.original ? h("details", { class: "tl-original" },
    h("summary", { class: "muted small" }, t("timeline.mail_original")),
    h("div", { class: "tl-text muted" }, mail.original)) : null;
  return original || download ? h("div", { class: "tl-mail" }, original, download) : null;
}

function attachmentLine(event, attachments) {
  const info = (event.changes && event.changes.attachment) || {};
  const at = Date.parse(event.at);
  // The attachment names the event that added it; older ones are matched by name and time.
  const file = attachments.find((a) => a.event_id === event.id)
    || attachments.find((a) => a.event_id == null && a.filename === info.filename && Date.parse(a.created_at) === at)
    || null;
  const name = info.filename || (file && file.filename) || t("tl.a_file");
  const link = file ? h("a", { href: file.url, target: "_blank", rel: "noopener", class: "tl-file" },
    icon("paperclip"), name) : h("span", { class: "tl-file" }, icon("paperclip"), name);
  const size = info.size !== undefined ? h("span", { class: "muted small" }, bytes(info.size)) : null;
  const preview = file && file.content_type.startsWith("image/")
    ? h("a", { href: file.url, target: "_blank", rel: "noopener", class: "tl-thumb" },
      h("img", { src: file.url, alt: name, loading: "lazy" }))
    : null;
  return systemLine(event, "paperclip",
    [h("strong", {}, actorName(event)), ` ${t("tl.attached")} `, link, " ", size, event.public ? null
      : h("span", { class: "tl-label tl-label-small" }, icon("lock"), t("attachments.internal"))],
    preview, event.public ? "tl-attachment" : "tl-attachment tl-internal-line");
}

// Without the directory (requesters cannot list users), ids read as "#id".
const NO_NAMES = { user: (i) => `#${i}`, group: (i) => `#${i}`, category: (i) => `#${i}`,
  device: (i) => `#${i}`, ticket: (i) => `#${i}` };

/** Return a remote session's request in the reader's language (null: only the server's words). */
function remoteText(event) {
  const c = event.changes || {};
  if (c.step !== "requested" || c.device_name === undefined) return null;
  const how = [t(c.consent ? "tl.remote.consent" : "tl.remote.unattended")];
  if (c.record) how.push(t("tl.remote.will_record"));
  else if (c.not_recorded) how.push(t("tl.remote.not_recorded"));
  return t("tl.remote.requested", { mode: t(`tl.remote.mode.${c.mode === "control" ? "control" : "view"}`),
    device: c.device_name, reason: c.reason, how: how.join("; ") });
}

/** Return the <li> of one event, or null for events this reader does not see. */
export function timelineItem(event, ctx) {
  const staff = ctx.staff;
  const names = ctx.names || NO_NAMES;
  if (!staff && !PORTAL_TYPES.has(event.type)) return null;
  switch (event.type) {
    case "comment":
    case "internal_note":
      return message(event, ctx);
    case "attachment":
      return attachmentLine(event, ctx.attachments);
    case "created": {
      const parts = staff ? describeChanges(
        Object.fromEntries(Object.entries(event.changes || {}).filter(([k]) => k === "assignee_id")),
        names, ctx) : [];
      const reported = staff && event.changes && event.changes.reported;
      return systemLine(event, "plus", [h("strong", {}, actorName(event)), ` ${t("tl.opened")}`,
        reported ? [" \u00b7 ", h("span", { class: "tl-reported" },
          reportedBy(reported.hostname, reported.login))] : null,
        parts.length ? [" \u00b7 ", joinParts(parts)] : null]);
    }
    case "status_changed": {
      const diff = (event.changes && event.changes.status) || {};
      const resolved = diff.after === "resolved";
      const others = staff ? describeChanges(Object.fromEntries(Object.entries(event.changes || {})
        .filter(([k]) => k !== "status")), names, ctx) : [];
      const code = event.changes && event.changes.resolution_code;
      const note = resolved && event.body ? h("p", { class: "tl-note" }, event.body) : null;
      const verb = ["resolved", "closed", "cancelled"].includes(diff.after) ? t(`tl.verb.${diff.after}`) : null;
      const content = verb
        ? [h("strong", {}, actorName(event)), ` ${verb}`,
          resolved && code ? [" \u00b7 ", h("span", { class: "chip" }, resolutionLabel(code.after))] : null]
        : [h("strong", {}, actorName(event)), ` ${t("tl.status_changed")} `,
          ...arrow(statusText(diff.before), statusText(diff.after))];
      // An automatic close carries its reason as the body.
      const reason = !resolved && event.body ? h("p", { class: "tl-note" }, event.body) : null;
      return systemLine(event, diff.after === "resolved" || diff.after === "closed" ? "check" : "history",
        [content, others.length ? [" \u00b7 ", joinParts(others)] : null], note || reason,
        `tl-status tl-status-${diff.after}`);
    }
    case "remote_session": {
      // Every step of a remote session, in the server's words (the requester sees them too:
      // who asked, the mode, and whether the screen is recorded).
      const c = event.changes || {};
      // Staff may play a recorded session (the player says if it was deleted since).
      const play = staff && c.step === "ended" && c.recording && c.recording.frames > 0
        ? h("a", { class: "tl-recording", href: `#/desk/remote/${c.session_id}/recording` }, t("tl.play_recording"))
        : null;
      const mode = c.step === "requested" && c.mode
        ? h("span", { class: "chip chip-mode", "data-mode": c.mode }, c.mode === "control" ? t("remote.mode.control") : t("remote.mode.view"))
        : null;
      const recorded = (c.step === "requested" && c.record) || (c.step === "ended" && c.recorded)
        ? h("span", { class: "chip chip-recorded" }, `\u25cf ${t("tl.recorded")}`) : null;
      const li = systemLine(event, "monitor", [event.actor ? [h("strong", {}, actorName(event)), " \u00b7 "] : null,
        h("span", { class: "tl-remote" }, remoteText(event) || event.body || t("route.remote")),
        mode ? [" ", mode] : null, recorded ? [" ", recorded] : null, play ? [" ", play] : null],
      null, "tl-remote-session");
      li.dataset.step = c.step || "";
      return li;
    }
    case "tool_session": {
      // Every step of a terminal on the device, in the server's words (the requester sees
      // them too: who opened a terminal on their computer, as whom, how it ended).
      const c = event.changes || {};
      const root = c.step === "requested" && c.as_root
        ? h("span", { class: "chip chip-mode", "data-mode": "root" }, t("toolbox.kind.terminal_root")) : null;
      const li = systemLine(event, "keyboard", [event.actor ? [h("strong", {}, actorName(event)), " \u00b7 "] : null,
        h("span", { class: "tl-remote" }, event.body || t("toolbox.kind.terminal")), root ? [" ", root] : null],
      null, "tl-tool-session");
      li.dataset.step = c.step || "";
      return li;
    }
    case "script_run": {
      // A script run on the device: the request, then each device's end with its output
      // attached (the requester sees both: what ran on their computer and what it printed).
      const c = event.changes || {};
      const file = c.step === "ended" ? (ctx.attachments || []).find((a) => a.event_id === event.id) : null;
      const link = file ? [" ", h("a", { href: file.url, target: "_blank", rel: "noopener", class: "tl-file" },
        icon("paperclip"), t("scripts.output_file"))] : null;
      const li = systemLine(event, "code", [event.actor ? [h("strong", {}, actorName(event)), " \u00b7 "] : null,
        h("span", { class: "tl-remote" }, event.body || t("scripts.run")), link], null, "tl-script-run");
      li.dataset.step = c.step || "";
      return li;
    }
    case "kind_changed": {
      // A new kind takes a number of that kind; the old one stays findable.
      const kind = (event.changes && event.changes.kind) || {};
      const number = (event.changes && event.changes.number) || {};
      return systemLine(event, "pencil", [h("strong", {}, actorName(event)), ` ${t("tl.kind_changed")} `,
        ...arrow(kindName(kind.before), kindName(kind.after)),
        number.after ? [` \u00b7 ${t("tl.now")} `, h("span", { class: "mono" }, number.after), ` (${t("tl.was")} `,
          h("span", { class: "mono" }, number.before), ")"] : null], null, "tl-kind");
    }
    case "updated": {
      const parts = describeChanges(event.changes, names, ctx);
      if (!parts.length) return null;
      return systemLine(event, "pencil", [h("strong", {}, actorName(event)), " ", joinParts(parts)]);
    }
    case "sla_warning":
    case "sla_breached": {
      const c = event.changes || {};
      const what = event.type === "sla_breached" ? t("tl.sla_breached") : t("tl.sla_warning", { percent: c.percent });
      return systemLine(event, "history", [h("strong", {}, CLOCK_LABELS[c.clock] || String(c.clock)),
        ` ${what}`, c.policy ? h("span", { class: "muted" }, ` \u00b7 ${c.policy}`) : null],
      null, event.type === "sla_breached" ? "tl-sla tl-sla-breached" : "tl-sla");
    }
    case "sla_retargeted": {
      const parts = Object.entries(event.changes || {}).map(([kind, d]) => [CLOCK_LABELS[kind] || kind, " ",
        ...arrow(`${d.before.policy} ${d.before.target_minutes ?? "\u2013"}m`,
          `${d.after.policy} ${d.after.target_minutes ?? "\u2013"}m`)]);
      return systemLine(event, "history", [`${t("tl.sla_retargeted")} \u00b7 `, joinParts(parts)]);
    }
    case "approval_requested":
      return systemLine(event, "history", [h("strong", {}, actorName(event)), ` ${t("tl.approval_requested")}`]);
    case "approved":
    case "rejected":
      return systemLine(event, event.type === "approved" ? "check" : "x",
        [h("strong", {}, actorName(event)), ` ${t(`tl.${event.type}`)}`],
        event.body ? h("p", { class: "tl-note" }, event.body) : null, `tl-approval tl-${event.type}`);
    case "rating": {
      // The requester's satisfaction, given from the tray (staff only).
      const score = Number((event.changes && event.changes.rating && event.changes.rating.score) || 0);
      const stars = "\u2605".repeat(score) + "\u2606".repeat(Math.max(0, 5 - score));
      return systemLine(event, "check", [h("strong", {}, actorName(event)), ` ${t("tl.rated", { score })} `,
        h("span", { class: "tl-stars", "aria-label": t("tl.stars", { score }) }, stars)],
      event.body ? h("p", { class: "tl-note" }, event.body) : null, "tl-rating");
    }
    default:
      // merged, linked and whatever the server adds later: its own words, if it has any.
      return systemLine(event, "history", [h("strong", {}, actorName(event)), " ",
        has(`tl.type.${event.type}`) ? t(`tl.type.${event.type}`) : event.type.replace(/_/g, " ")],
      event.body ? h("p", { class: "tl-note" }, event.body) : null);
  }
}

/**
 * Keep a rendered timeline in step with the events fetched: events are append-only, so
 * only new ones are added (images and text already shown stay as they are).
 */
export function syncTimeline(list, events, ctx) {
  const shown = new Set([...list.children].map((li) => li.dataset.event).filter(Boolean));
  if (!events.length && !list.children.length) return;
  for (const event of events) {
    if (shown.has(String(event.id))) continue;
    const li = timelineItem(event, ctx);
    if (li) list.append(li);
    else list.append(h("li", { hidden: true, "data-event": event.id }));
  }
  // Filled once, the list announces what arrives later (a reply, a status change) to a
  // screen reader; the first fill is the page itself and is not read out as news.
  if (!list.hasAttribute("aria-live")) {
    list.setAttribute("aria-live", "polite");
    list.setAttribute("aria-relevant", "additions");
  }
}
