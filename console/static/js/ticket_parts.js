// Pieces of a ticket page shared by the Desk and the Portal: loading the timeline, the
// reply composer with file attachments, and the attachment list.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { checkFields, clearFieldErrors, showApiFieldError } from "./forms.js";
import { bytes, dateTime } from "./format.js";
import { t } from "./i18n.js";
import { icon } from "./icons.js";
import { clearNotice, showError } from "./notice.js";

/** Return a ticket's timeline and attachments ({events, attachments}). */
export async function fetchTimeline(id) {
  // Events first: an attachment event is written with its file in one transaction, so
  // every attachment event seen here has its file in the list fetched after it.
  const events = (await api.get(`/api/v1/tickets/${id}/events`)).items;
  const attachments = (await api.get(`/api/v1/tickets/${id}/attachments`)).items;
  return { events, attachments };
}

/** Upload one file to a ticket (internal: only the desk sees it); return the attachment. */
export function uploadFile(id, file, { internal = false } = {}) {
  const form = new FormData();
  if (internal) form.append("internal", "true");
  form.append("file", file, file.name);
  return api.upload(`/api/v1/tickets/${id}/attachments`, form);
}

/**
 * The reply box. Staff choose between a public reply and an internal note; files attached
 * while "Internal note" is chosen are internal too. Returns {el, focus(), setClosed(text)}.
 * `onSend(body, internal)` and `onAttach(file, internal)` are awaited; they throw on error.
 * `tools`: more controls for the foot (the Desk's canned responses).
 */
export function composer({ staff, onSend, onAttach, placeholder = t("composer.placeholder"), tools = null }) {
  let internal = false;
  const text = h("textarea", { name: "body", rows: 4, maxlength: 20000, required: true,
    "aria-label": t("composer.message"), placeholder, "aria-keyshortcuts": staff ? "r" : null });
  const send = h("button", { type: "submit", class: "btn btn-primary" }, icon("send"), t("composer.send"));
  const file = h("input", { type: "file", class: "file-input", "aria-label": t("composer.attach") });
  const attachLabel = h("label", { class: "btn btn-ghost" }, icon("paperclip"), t("composer.attach"), file);
  // On a phone, a photo straight from the camera (other browsers offer their file chooser).
  const photo = h("input", { type: "file", class: "file-input", accept: "image/*", capture: "environment",
    "aria-label": t("composer.take_photo") });
  const photoLabel = h("label", { class: "btn btn-ghost camera-only" }, icon("camera"), t("composer.take_photo"), photo);
  const uploading = h("span", { class: "muted small", "aria-live": "polite" });
  const hint = h("span", { class: "hint composer-hint" });
  const closed = h("p", { class: "composer-closed", hidden: true });

  const modes = staff ? h("div", { class: "segmented", role: "radiogroup", "aria-label": t("composer.kind") },
    modeButton("reply", t("composer.reply"), t("composer.reply_title")),
    modeButton("internal", t("composer.internal"), t("composer.internal_title"))) : null;

  function modeButton(value, label, title) {
    const input = h("input", { type: "radio", name: "mode", value, checked: value === "reply",
      class: "segmented-input" });
    input.addEventListener("change", () => setMode(value === "internal"));
    return h("label", { class: "segmented-option", title }, input,
      value === "internal" ? icon("lock") : icon("send"), label);
  }

  const form = h("form", { class: "composer", "aria-label": t("composer.write") },
    modes, text,
    h("div", { class: "composer-foot" }, attachLabel, photoLabel, tools, uploading, hint, send));

  function setMode(isInternal) {
    internal = isInternal;
    form.classList.toggle("composer-internal", internal);
    replace(send, icon(internal ? "lock" : "send"), internal ? t("composer.add_internal") : t("composer.send"));
    text.placeholder = internal ? t("composer.internal_placeholder") : placeholder;
    replace(hint, staff ? (internal ? t("composer.hint_internal") : t("composer.hint_reply"))
      : "");
  }
  setMode(false);

  form.noValidate = true; // an empty message is said next to the box (forms.js)
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    if (!checkFields(form)) return;
    const body = text.value.trim();
    clearNotice();
    send.disabled = true;
    try {
      await onSend(body, internal);
      text.value = "";
    } catch (error) {
      if (!showApiFieldError(form, error)) showError(error);
    } finally {
      send.disabled = false;
    }
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  const attach = async (input) => {
    const chosen = input.files && input.files[0];
    if (!chosen) return;
    clearNotice();
    input.disabled = true;
    replace(uploading, t("composer.uploading", { name: chosen.name }));
    try {
      await onAttach(chosen, internal);
      replace(uploading, "");
    } catch (error) {
      replace(uploading, "");
      showError(error);
    } finally {
      input.disabled = false;
      input.value = "";
    }
  };
  file.addEventListener("change", () => attach(file));
  photo.addEventListener("change", () => attach(photo));

  const el = h("div", { class: "composer-wrap" }, closed, form);
  return {
    el,
    focus() {
      if (!form.hidden) text.focus();
    },
    /** Put text into the box at the cursor (a canned response) and focus it. */
    insert(snippet) {
      const start = text.selectionStart ?? text.value.length;
      const end = text.selectionEnd ?? start;
      text.setRangeText(snippet, start, end, "end");
      text.focus();
    },
    /** Hide the box with an explanation (closed tickets), or show it again (null). */
    setClosed(message) {
      closed.hidden = !message;
      form.hidden = !!message;
      replace(closed, message || "");
    },
  };
}

/** A list of attachment links with sizes (internal ones marked). */
export function attachmentList(attachments, { staff }) {
  if (!attachments.length) return h("p", { class: "muted small" }, t("attachments.none"));
  return h("ul", { class: "file-list", "aria-label": t("attachments.label") }, attachments.map((a) => h("li", {},
    h("a", { href: a.url, target: "_blank", rel: "noopener", class: "file-link", title: dateTime(a.created_at) },
      icon("paperclip"), h("span", { class: "file-name" }, a.filename)),
    h("span", { class: "muted small nowrap" }, bytes(a.size)),
    staff && !a.public ? h("span", { class: "tl-label tl-label-small", title: t("attachments.hidden") },
      icon("lock"), t("attachments.internal")) : null)));
}
