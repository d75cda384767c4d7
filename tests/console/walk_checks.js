// The checks tests/console/walk.py runs in the page (one object of named functions).
({
  /** Resolve once the DOM has been still for a moment and nothing says it is loading. */
  settled: () => new Promise((resolve) => {
    let timer = 0;
    const done = () => {
      if (document.querySelector('[aria-busy="true"]')
          || /Loading\u2026|Memuat\u2026/.test(document.querySelector('.content')?.textContent || '')) {
        timer = setTimeout(done, 100);
        return;
      }
      observer.disconnect();
      resolve(true);
    };
    const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, 300); });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    timer = setTimeout(done, 300);
  }),

  /**
   * Report, for the page as it is: the document wider than the viewport, text that other
   * text or a control covers, and text squeezed into a column a few pixels wide. Text is
   * measured line by line (Range rects), cut to what its scrolling or clipping ancestors
   * show; hidden things, open dialogs and the off-screen skip link do not count.
   */
  layout: () => {
    const problems = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw) {
      const wide = [...document.querySelectorAll('body *')].filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > vw + 1 && !clippedAway(el);
      }).slice(0, 3).map(describe);
      problems.push(`document is ${document.documentElement.scrollWidth}px wide in a ${vw}px viewport: ${wide.join(', ')}`);
    }
    function describe(el) {
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '';
      return `${el.tagName.toLowerCase()}${cls}`;
    }
    function visible(el) {
      for (let e = el; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0) return false;
        if (e.tagName === 'DIALOG' || e.matches('.skip-link, [role="tooltip"]')) return false;
      }
      return true;
    }
    // `from`: the text's own element (its overflow cuts its text) or a control's parent.
    function clip(from, rect) {
      let r = { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom };
      for (let e = from; e && e !== document.body; e = e.parentElement) {
        const s = getComputedStyle(e);
        const clipX = s.overflowX !== 'visible', clipY = s.overflowY !== 'visible';
        if (!clipX && !clipY) continue;
        const b = e.getBoundingClientRect();
        if (clipX) { r.left = Math.max(r.left, b.left); r.right = Math.min(r.right, b.right); }
        if (clipY) { r.top = Math.max(r.top, b.top); r.bottom = Math.min(r.bottom, b.bottom); }
      }
      return r;
    }
    function clippedAway(el) {
      const r = clip(el.parentElement, el.getBoundingClientRect());
      return r.right - r.left < 1 || r.bottom - r.top < 1;
    }
    const boxes = []; // {el, rect, text}
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      const el = node.parentElement;
      if (!text || !el || el.closest('script, style, select, option, textarea, svg, noscript')) continue;
      if (!visible(el)) continue;
      range.selectNodeContents(node);
      const lines = [...range.getClientRects()].filter((r) => r.width >= 1 && r.height >= 1);
      if (lines.length >= 3 && Math.max(...lines.map((r) => r.width)) < 40) {
        problems.push(`text squeezed into a ${Math.round(Math.max(...lines.map((r) => r.width)))}px column: "${text.slice(0, 40)}" in ${describe(el)}`);
      }
      for (const line of lines) {
        const r = clip(el, line);
        if (r.right - r.left >= 2 && r.bottom - r.top >= 2) boxes.push({ el, r, text });
      }
    }
    const controls = [...document.querySelectorAll('input:not([type="hidden"]), select, textarea, button, [role="button"], img')]
      .filter((el) => visible(el) && !el.classList.contains('file-input'))
      .map((el) => ({ el, r: clip(el.parentElement, el.getBoundingClientRect()), control: true }))
      .filter((c) => c.r.right - c.r.left >= 2 && c.r.bottom - c.r.top >= 2);
    // Overlaps of at least 3 px both ways: a line's glyph box may touch its neighbour's.
    const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) >= 3
      && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) >= 3;
    const related = (a, b) => a === b || a.contains(b) || b.contains(a);
    const seen = new Set();
    const all = boxes.concat(controls);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const a = boxes[i], b = all[j];
        if (related(a.el, b.el) || !overlap(a.r, b.r)) continue;
        // A control's own label or content (a button's text) sits inside it by design.
        if (b.control && (b.el.contains(a.el) || a.el.closest('label')?.contains(b.el))) continue;
        const key = `${describe(a.el)}|${describe(b.el)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        problems.push(`"${a.text.slice(0, 30)}" (${describe(a.el)}) overlaps ${b.control ? 'control' : `"${b.text.slice(0, 30)}"`} (${describe(b.el)})`);
      }
    }
    return problems;
  },

  /**
   * Report controls a finger cannot hit reliably: visible buttons, fields and button-like
   * links shorter than `min` px (WCAG 2.5.5's 44 px). Links inside running text, and
   * checkboxes and radios whose label is the target, do not count.
   */
  targets: (min) => {
    const small = [];
    const controls = document.querySelectorAll('button, select, textarea, a.btn, a.nav-link, a.list-link, '
      + 'a.ticket-item, [role="tab"], input:not([type="hidden"]):not([type="checkbox"]):not([type="radio"])');
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || el.closest('dialog:not([open]), [hidden]')) continue;
      const s = getComputedStyle(el);
      if (s.visibility === 'hidden' || Number(s.opacity) === 0) continue;
      // A hidden file input inside its label: the label is what is tapped.
      const target = el.matches('.file-input, .segmented-input') ? el.closest('label') : el;
      const h = target.getBoundingClientRect().height;
      if (h + 0.5 < min) {
        const cls = typeof target.className === 'string' && target.className ? '.' + target.className.trim().split(/\s+/).join('.') : '';
        small.push(`${target.tagName.toLowerCase()}${cls} "${(target.textContent || target.getAttribute('aria-label') || '').trim().slice(0, 30)}" is ${Math.round(h)}px tall`);
      }
    }
    return [...new Set(small)];
  },

  /** Run axe-core (loaded by the test) and return the violations of the given impacts. */
  axe: (impacts) => axe.run(document, {
          resultTypes: ['violations'],
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        }).then((r) => r.violations.filter((v) => impacts.includes(v.impact)).map((v) =>
          `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')
            + (n.failureSummary ? ' - ' + n.failureSummary.split('\n').slice(1, 2).join('').trim() : ''))
            .join('; ')}`)),
})
