// Admin → Branding: the product name users see, the logo, the accent colour (the server
// refuses colours too light for readable text) and the portal's welcome text.

import { api } from "../api.js";
import { applyBranding, branding } from "../branding.js";
import { busy, field, formValues, h, replace } from "../dom.js";
import { clearFieldErrors, placeError, showFieldErrors } from "../forms.js";
import { t } from "../i18n.js";
import { clearNotice, guarded, showSuccess } from "../notice.js";
import { panel } from "../ui.js";

const HEX = /^#[0-9a-fA-F]{6}$/;
const LOGO_TYPES = ["image/png", "image/jpeg", "image/svg+xml"];
const LOGO_MAX = 512 * 1024;

/** Fill the branding view. */
export function brandingView(root) {
  const formHost = h("div");
  const logoHost = h("div");

  function wrap(path, el) {
    el.dataset.field = path;
    return el;
  }

  function render(b) {
    const text = h("input", { name: "accent_color", maxlength: 7, value: b.accent_color, spellcheck: "false",
      autocapitalize: "none" });
    const picker = h("input", { type: "color", value: b.accent_color, "aria-label": t("branding.accent_picker") });
    picker.addEventListener("input", () => { text.value = picker.value; });
    text.addEventListener("input", () => { if (HEX.test(text.value)) picker.value = text.value.toLowerCase(); });
    const accent = field(t("branding.field.accent"), text, t("branding.hint.accent"));
    accent.querySelector("input").after(picker);
    const form = h("form", { class: "stack settings-form", novalidate: true, "aria-label": t("branding.form") },
      wrap("product_name", field(t("branding.field.name"), h("input", { name: "product_name", maxlength: 60,
        value: b.product_name }), t("branding.hint.name"))),
      wrap("accent_color", accent),
      wrap("welcome_text", field(t("branding.field.welcome"), h("textarea", { name: "welcome_text", rows: 4,
        maxlength: 2000 }, b.welcome_text), t("branding.hint.welcome"))),
      h("div", { class: "brand-preview", "aria-hidden": "true" },
        h("span", { class: "btn btn-primary", tabindex: -1 }, t("branding.preview_button")),
        h("span", { class: "tag" }, t("branding.preview_tag"))),
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "btn btn-primary" }, t("branding.save"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      clearFieldErrors(form);
      const v = formValues(form);
      const at = (name) => form.querySelector(`[data-field="${name}"]`);
      const problems = [];
      if (!v.product_name) problems.push([at("product_name"), t("branding.error.name")]);
      if (!HEX.test(v.accent_color)) problems.push([at("accent_color"), t("branding.error.hex")]);
      if (showFieldErrors(problems)) return;
      const now = branding();
      const body = {};
      if (v.product_name !== now.product_name) body.product_name = v.product_name;
      if (v.accent_color.toLowerCase() !== now.accent_color) body.accent_color = v.accent_color;
      if (v.welcome_text !== now.welcome_text) body.welcome_text = v.welcome_text || null;
      if (!Object.keys(body).length) {
        showSuccess(t("branding.unchanged"));
        return;
      }
      try {
        const saved = await busy(form, () => api.patch("/api/v1/settings/branding", body));
        applyBranding(saved);
        render(saved);
        showSuccess(t("branding.saved"));
      } catch (error) {
        placeError(form, error);
      }
    });
    replace(formHost, form);
    renderLogo(b);
  }

  function renderLogo(b) {
    const file = h("input", { type: "file", name: "file", accept: LOGO_TYPES.join(",") });
    const fileField = field(t("branding.field.logo"), file, t("branding.hint.logo"));
    fileField.dataset.field = "file";
    const form = h("form", { class: "stack settings-form", novalidate: true, "aria-label": t("branding.logo_form") },
      h("div", { class: "brand-preview" },
        h("img", { class: "logo-preview", src: b.logo_url || "/static/img/logo.svg",
          alt: b.logo_url ? t("branding.logo_current") : t("branding.logo_default") }),
        h("span", { class: "hint" }, b.logo_url ? t("branding.logo_custom") : t("branding.logo_none"))),
      fileField,
      h("div", { class: "form-actions" },
        b.logo_url ? h("button", { type: "button", class: "btn btn-danger-ghost", onclick: () => removeLogo(form) },
          t("branding.logo_remove")) : null,
        h("button", { type: "submit", class: "btn btn-primary" }, t("branding.logo_upload"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearNotice();
      clearFieldErrors(form);
      const chosen = file.files[0];
      if (!chosen) {
        showFieldErrors([[fileField, t("branding.error.no_file")]]);
        return;
      }
      if (chosen.size > LOGO_MAX) {
        showFieldErrors([[fileField, t("branding.error.too_big")]]);
        return;
      }
      const data = new FormData();
      data.append("file", chosen, chosen.name);
      try {
        const saved = await busy(form, () => api.upload("/api/v1/settings/branding/logo", data));
        applyBranding(saved);
        renderLogo(saved);
        showSuccess(t("branding.logo_saved"));
      } catch (error) {
        const byCode = { unsupported_media_type: "file", body_too_large: "file", validation_error: "file" };
        placeError(form, error, { byCode });
      }
    });
    replace(logoHost, form);
  }

  async function removeLogo(form) {
    clearNotice();
    try {
      const saved = await busy(form, () => api.delete("/api/v1/settings/branding/logo"));
      applyBranding(saved);
      renderLogo(saved);
      showSuccess(t("branding.logo_removed"));
    } catch (error) {
      placeError(form, error);
    }
  }

  root.append(panel(t("branding.title"), formHost), panel(t("branding.logo_title"), logoHost));
  guarded(async () => {
    const b = await api.get("/api/v1/branding");
    applyBranding(b);
    render(b);
  });
}
