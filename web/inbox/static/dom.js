// Kith pages' shared helpers: `h` builds DOM nodes (every string through a text node or an
// attribute, never parsed as HTML), `api` calls the /app/api JSON with the CSRF token and
// `say` puts a line in the page's status (`#notice`, read out by screen readers);
// `confirmed` asks in the page's confirmation dialog (`confirm_dialog.html`); `once` makes a
// form that writes deaf to a second press while its request is in flight. It also makes
// the header's language select work, on every page.
"use strict";

(() => {
  const body = document.body;
  const T = JSON.parse(document.getElementById("kith-i18n").textContent);

  // An API failure: the server's message and, when it named one, the field at fault (and
  // its `reason` and `limits`, for a page that words a refusal itself), and the HTTP status.
  // `fields` is every field the server refused, the first one first, each with its message
  // in the page's language (`markFields` shows them at the form's controls).
  class ApiError extends Error {
    constructor(message, field, detail = {}, status = null) {
      super(message);
      this.field = field || null;
      this.reason = detail.reason || null;
      this.limits = detail.limits || null;
      this.status = status;
      const own = this.field ? [{ field: this.field, message, reason: this.reason, limits: this.limits }] : [];
      this.fields = Array.isArray(detail.fields) && detail.fields.length
        ? detail.fields.map((f) => ({ ...f, message: worded(f) })) : own;
    }
  }

  // A validation error in the page's language when the server said why (`reason`, with the
  // numbers or choices in `limits`); otherwise the server's own message. A limit of one has
  // words of its own where the page has them (`reason_…_one`): "Cannot be empty", not "at
  // least 1 characters" for a text of spaces.
  function worded(error) {
    const limits = error.limits || {};
    const one = (limits.min_length === 1 || limits.max_length === 1) && T[`reason_${error.reason}_one`];
    const template = one || (error.reason && T["reason_" + error.reason]);
    if (!template) return error.message || T.error;
    return fill(template, limits);
  }

  // `{name}` in a string of the page's language, from `values` (an unknown name stays).
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, key) =>
      values[key] !== undefined ? String(values[key]) : whole);
  }

  // A customer without a name (an anonymous web chat visitor) goes by the end of their id,
  // so that several of them are told apart, on every page: "Customer 7F3A" ("客户 7F3A").
  function unnamed(customerId) {
    return customerId ? fill(T.customer_unnamed, { code: customerId.slice(-4).toUpperCase() }) : T.customer;
  }

  // A refusal shown at the form's controls: each of the error's `fields` (or its one
  // `field`) gets aria-invalid and its message in its slot, and the first is focused; the
  // marks of an earlier call go first (`markFields(form, null)` only clears). A field is
  // found at its `data-field` (a control, or a box holding one and its `.field-error`), else
  // at its nearest named parent (`config.x.0` at `config.x`); `[data-error-for=field]` is a
  // slot too. Answers the fields it found no place for, for the page to say elsewhere.
  function markFields(form, error) {
    for (const slot of form.querySelectorAll(".field-error, [data-error-for]")) slot.textContent = "";
    for (const bad of form.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
    const fields = (error && error.fields)
      || (error && error.field ? [{ field: error.field, message: error.message }] : []);
    const unplaced = [];
    let first = null;
    for (const each of fields) {
      const place = fieldPlace(form, each.field);
      if (!place) {
        unplaced.push(each);
        continue;
      }
      const text = each.message || T.error;
      if (place.slot) place.slot.textContent = place.slot.textContent ? `${place.slot.textContent} ${text}` : text;
      place.control.setAttribute("aria-invalid", "true");
      for (let fold = place.control.closest("details"); fold; fold = fold.parentElement.closest("details")) {
        fold.open = true;  // a refused field is never left folded away
      }
      first = first || place.control;
    }
    if (first) first.focus();
    return unplaced;
  }

  // A form's refusal said in full: every refused field marked at its control at once (the
  // first focused), each message through `reword` (the page's wording of its reasons); what
  // no control holds (a rule about the whole form) goes in the form's `.form-error` line,
  // through `whole`. `null` clears both.
  function showRefusals(form, error, reword = (each) => each.message, whole = (message) => message) {
    const box = form.querySelector(".form-error");
    box.textContent = "";
    if (!error) {
      markFields(form, null);
      return;
    }
    const fields = (error.fields && error.fields.length ? error.fields : [{ field: error.field, message: error.message }])
      .map((each) => ({ ...each, message: reword(each) }));
    const unplaced = markFields(form, { fields });
    box.textContent = unplaced.map((each) => whole(each.message)).join(" ") || (fields.length ? "" : error.message);
  }

  // The boxes a refused field may be shown at, nearest first: its own `data-field`, then its
  // named parents' (`config.x.0`, then `config.x`), each with its name as a CSS string.
  function* fieldBoxes(form, field) {
    const parts = String(field || "").split(".");
    for (let n = parts.length; n > 0; n--) {
      const name = CSS.escape(parts.slice(0, n).join("."));
      const box = form.querySelector(`[data-field="${name}"]`);
      if (box) yield { name, box };
    }
  }

  const controlIn = (box) => (box.matches("input, select, textarea") ? box : box.querySelector("input, select, textarea"));

  function fieldPlace(form, field) {
    for (const { name, box } of fieldBoxes(form, field)) {
      const control = controlIn(box);
      if (!control) continue;
      const slot = form.querySelector(`[data-error-for="${name}"]`) || box.querySelector(".field-error");
      return { control, slot };
    }
    return null;
  }

  // The /app/api answer's JSON, and (`answer`) its status too: 201 made now, 200 made before.
  async function api(method, path, payload, extra = {}) {
    return (await answer(method, path, payload, extra)).data;
  }

  async function answer(method, path, payload, extra = {}) {
    const response = await fetch("/app/api" + path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": body.dataset.csrf },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      ...extra,
    });
    if (response.status === 401) {
      window.location.assign("/app/login");
      throw new ApiError(T.session_expired || T.error);
    }
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : null;
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(worded(error), error.field, error, response.status);
    }
    return { data, status: response.status };
  }

  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A form clears it when it is sent (`say("")`), so an earlier "saved" never stands beside
  // this attempt's refusal, nor before its answer. A refusal or failure is said `{ error:
  // true }`: in the colour of errors, not the muted one of "Saved." (QA: the two looked alike).
  function say(text, { error = false } = {}) {
    const notice = document.getElementById("notice");
    if (!notice) return;
    notice.textContent = text;
    notice.classList.toggle("notice-error", error && Boolean(text));
  }

  // Resolves true when the user confirms `text` (Escape or Cancel: false).
  function confirmed(text, { yes = null, no = null } = {}) {
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = text;
    // Buttons worded for the question when "Cancel" would be ambiguous ("Cancel the
    // broadcast?": Keep it / Cancel broadcast); else the dialog's own Cancel and Confirm.
    for (const [button, word] of [[dialog.querySelector("button[value=cancel]"), no], [dialog.querySelector("button[value=ok]"), yes]]) {
      button.dataset.word ??= button.textContent;
      button.textContent = word || button.dataset.word;
    }
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    });
  }

  // The header's language select (page_base.html): saves the user's choice, then reloads the
  // page in that language.
  function languageSwitch() {
    const select = document.getElementById("locale");
    if (!select) return;
    select.addEventListener("change", async () => {
      try {
        await api("PUT", "/me/settings", { locale: select.value });
        const url = new URL(window.location.href);  // a `?lang=` would outrank the choice
        url.searchParams.delete("lang");
        window.location.replace(url.href);
      } catch (error) {
        say(error.message, { error: true });
      }
    });
  }

  // A date, or a date and time, written one way on every page in the page's language, the
  // month in words so that no one reads 08/01 as August: "30 Dec 2026" (, "14:05") in
  // English, "2026年12月30日" ("14:05") in Chinese. Nothing for no date.
  const dateLocale = body.dataset.locale === "zh" ? "zh-CN" : "en-GB";
  const DAY = { day: "numeric", month: "short", year: "numeric" };
  const dayFormat = new Intl.DateTimeFormat(dateLocale, DAY);
  const timeFormat = new Intl.DateTimeFormat(dateLocale,
    { ...DAY, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const date = (iso) => (iso ? dayFormat.format(new Date(iso)) : "");
  const dateTime = (iso) => (iso ? timeFormat.format(new Date(iso)) : "");
  // In a list's rows, where the year goes without saying: "30 Dec, 14:05" / "12月30日 14:05",
  // the year written when it is not this one (Kith's clock: the demo's runs fast).
  const shortFormat = new Intl.DateTimeFormat(dateLocale,
    { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function shortDateTime(iso) {
    if (!iso) return "";
    const at = new Date(iso);
    const now = new Date(window.KithClock ? window.KithClock.now() : Date.now());
    return at.getFullYear() === now.getFullYear() ? shortFormat.format(at) : timeFormat.format(at);
  }
  // Moments a server-made page wrote (`pages.when`): the same words, here.
  for (const moment of document.querySelectorAll("time[data-when]")) {
    const at = moment.getAttribute("datetime");
    moment.textContent = moment.dataset.when === "date" ? date(at) : dateTime(at);
  }

  // A form (or a button) whose handler writes something, made safe to press twice: while
  // `handler(event)` runs, the form's submit buttons (or the button) are disabled, the form
  // is aria-busy, and another Enter or click is ignored, so a double press creates one order,
  // not two. They come back when the handler ends, focus too if disabling took it, unless it
  // resolved `once.LEAVING`: the page is reloading or going elsewhere, and a press before it
  // has gone must not send again. The handler catches and shows its own failures.
  const LEAVING = Symbol("leaving");
  function once(target, handler) {
    const isForm = target instanceof HTMLFormElement;
    let busy = false;
    target.addEventListener(isForm ? "submit" : "click", async (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      const controls = isForm
        ? [...target.elements].filter((c) => c.type === "submit" && !c.disabled) : [target];
      const focused = document.activeElement;
      for (const control of controls) control.disabled = true;
      target.setAttribute("aria-busy", "true");
      let outcome;
      try {
        outcome = await handler(event);
      } finally {
        target.removeAttribute("aria-busy");
        if (outcome !== LEAVING) {
          busy = false;
          for (const control of controls) control.disabled = false;
          // Lost: on <body>, or still on a button of the confirmation just closed (`confirmed`).
          const active = document.activeElement;
          const lost = !active || active === body || Boolean(active.closest("dialog:not([open])"));
          if (lost && controls.includes(focused) && focused.isConnected) focused.focus();
        }
      }
    });
  }
  once.LEAVING = LEAVING;
  Object.freeze(once);

  // A live page that draws again while a pointer button is down takes the pressed element
  // from under the pointer (moved, drawn anew, or pushed down by a row drawn above it) and the
  // press makes no click. So a redraw first `await settled()`: at once when nothing is
  // pressed, else once the release has made its click (a task after it), or after HOLD_MS for
  // a press whose release never reaches the page.
  const HOLD_MS = 2000;
  let pressedAt = null;
  let waiting = [];
  document.addEventListener("pointerdown", () => { pressedAt = performance.now(); }, true);
  const released = () => {
    pressedAt = null;
    const go = waiting;
    waiting = [];
    setTimeout(() => go.forEach((resolve) => resolve()), 0);
  };
  for (const type of ["pointerup", "pointercancel"]) window.addEventListener(type, released, true);
  window.addEventListener("blur", released);
  function settled() {
    if (pressedAt === null || performance.now() - pressedAt >= HOLD_MS) return Promise.resolve();
    return new Promise((resolve) => {
      waiting.push(resolve);
      setTimeout(resolve, HOLD_MS - (performance.now() - pressedAt));
    });
  }

  // For a list asked again before an earlier answer lands (a filter sent while the first
  // page loads): `const turn = newestOnly()`, then each request takes `const current = turn()`
  // and draws its answer only if `current()` (no newer request since), however late it lands.
  function newestOnly() {
    let asked = 0;
    return () => {
      const mine = ++asked;
      return () => mine === asked;
    };
  }

  // A search box that asks as the user types: `ask(q)` a quarter second after the last key,
  // or at once on Enter (which then submits nothing); only the newest question's answer
  // reaches `show(answer, q)` or `fail(error)`, however late an older one lands. An emptied
  // box calls `cleared()`.
  function searchAsTyped(input, { ask, show, fail, cleared }) {
    const turn = newestOnly();
    let timer = null;
    async function run() {
      clearTimeout(timer);
      const q = input.value.trim();
      const current = turn();
      if (!q) return cleared();
      try {
        const found = await ask(q);
        if (current()) show(found, q);
      } catch (error) {
        if (current()) fail(error);
      }
    }
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(run, 250);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      run();
    });
  }

  // A customer found by name, email or phone (the contacts search) for a form's `select`:
  // `search` asks a quarter second after the last key (the newest question's answer wins) and
  // Enter in it submits the form with the first found; `found` says how many; `changed()` runs
  // on every key (a preview of the last customer is stale).
  function customerChoice(search, select, found, changed = () => {}) {
    const turn = newestOnly();
    search.addEventListener("input", () => {
      const current = turn();
      changed();
      setTimeout(() => { if (current()) show(current); }, 250);
    });
    async function show(current) {
      const q = search.value.trim();
      if (!q) {
        select.replaceChildren(h("option", { value: "" }, T.find_customer_pick));
        found.textContent = "";
        return;
      }
      try {
        const page = await api("GET", `/contacts?limit=10&q=${encodeURIComponent(q)}`);
        if (!current()) return;  // a later keystroke's search answers instead
        select.replaceChildren(...(page.items.length ? page.items.map((c) =>
          h("option", { value: c.id }, [c.name || T.find_customer_unnamed,
            ...(c.emails || []).slice(0, 1), ...(c.phones || []).slice(0, 1)].join(" · ")))
          : [h("option", { value: "" }, T.find_customer_none)]));
        found.textContent = fill(T.find_customer_found, { n: page.items.length });
      } catch (e) {
        found.textContent = e.message;
      }
    }
  }

  // Each channel's icon, drawn (16×16, in the text's colour): an emoji or a symbol glyph
  // depends on the reader's fonts, and Debian's Chromium showed 💬 as an empty box. Named for
  // the channel's kind in the page's language, unless `decorative` (its name follows in text).
  const CHANNEL_ICONS = {
    api: "M2 5h11M10 2l3 3-3 3M14 11H3M6 8l-3 3 3 3",
    webchat: "M2.5 3h11v7.5H8L4.5 13.5v-3h-2z",
    telegram: "M14.5 2 1.5 7.2l4.3 1.6L7.3 13l2.2-2.6 3.4 2.5zM5.8 8.8 14.5 2",
    slack: "M6.5 2 5 14M11 2 9.5 14M2.5 5.5h11.5M2 10.5h11.5",
    wechat: "M1.5 2.5h9v6H6L3.5 10.5v-2h-2zM12 6h2.5v5.5H13v2L11 11.5H7.5v-1.5",
    email: "M1.5 3.5h13v9h-13zM1.5 3.5 8 9l6.5-5.5",
  };
  const OTHER_CHANNEL_ICON = "M8 5.5a2.5 2.5 0 1 1 0 5 2.5 2.5 0 1 1 0-5z";

  function channelIcon(type, { decorative = false } = {}) {
    const svg = "http://www.w3.org/2000/svg";
    const drawing = document.createElementNS(svg, "svg");
    const line = document.createElementNS(svg, "path");
    for (const [name, value] of Object.entries({ viewBox: "0 0 16 16", "aria-hidden": "true", focusable: "false" })) {
      drawing.setAttribute(name, value);
    }
    line.setAttribute("d", CHANNEL_ICONS[type] || OTHER_CHANNEL_ICON);
    drawing.append(line);
    if (decorative) return h("span", { class: "chan chan-" + type, "aria-hidden": "true" }, drawing);
    const name = T["channel_type_" + type] || type;
    return h("span", { class: "chan chan-" + type, role: "img", "aria-label": name, title: name }, drawing);
  }

  // A button that shows and hides the panel it controls (the header's user menu; the
  // sections on a phone): Enter or Space toggles it (a native button); Tab moves through it;
  // Escape closes it and gives focus back to the button; a click outside it or focus leaving
  // it closes it too. The button's parent holds both. The panel is `hidden` when closed,
  // unless `byCss`: the sections show on a wide window whatever the button says (inbox.css).
  // Returns `show(open)`, for keys of the caller's own (the user menu's arrows).
  function disclosure(button, panel, { byCss = false } = {}) {
    const box = button.parentElement;
    const isOpen = () => button.getAttribute("aria-expanded") === "true";
    function show(open) {
      button.setAttribute("aria-expanded", String(open));
      if (!byCss) panel.hidden = !open;
    }
    button.addEventListener("click", () => show(!isOpen()));
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !isOpen()) return;
      event.preventDefault();
      show(false);
      button.focus();
    });
    document.addEventListener("click", (event) => {
      if (isOpen() && !box.contains(event.target)) show(false);
    });
    box.addEventListener("focusout", (event) => {
      if (event.relatedTarget && !box.contains(event.relatedTarget)) show(false);
    });
    return show;
  }

  function sectionsMenu() {
    const button = document.querySelector(".app-nav .nav-toggle");
    if (!button) return;
    disclosure(button, document.getElementById("app-nav-links"), { byCss: true });
    button.disabled = false;  // it opens now (a click before this would be lost)
  }

  // A list table marked `cards` becomes one labelled card per row on a phone (admin.css):
  // each cell is given its column's heading as `data-label`, for the rows the server wrote
  // and for those a page's script adds later.
  function labelCards() {
    for (const table of document.querySelectorAll("table.cards")) {
      const label = () => labelCells(table, table.tBodies[0]?.rows ?? []);
      label();
      if (table.tBodies[0]) new MutationObserver(label).observe(table.tBodies[0], { childList: true });
    }
  }

  // Each cell of `rows` labelled with its column's heading in `table`, if a card table.
  function labelCells(table, rows) {
    if (!table?.classList.contains("cards")) return;
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const row of rows) [...row.cells].forEach((cell, n) => { if (heads[n]) cell.dataset.label = heads[n]; });
  }

  // A note of Kith's own (a message's `wording`) in this page's language, else the message as
  // written. Values named `…_at` are moments, written as every page writes them; a list value
  // (addresses, numbers) is joined with the language's separator (", ", "、"); a term is a
  // text key, or a list of them, worded and joined the same way.
  function said(m) {
    const template = m.wording && T["said_" + m.wording.key];
    if (!template) return m.text;
    const value = ([name, v]) =>
      [name, Array.isArray(v) ? v.join(T.list_separator) : name.endsWith("_at") ? dateTime(v) : v];
    const word = (key) => T[key] || key;
    const term = ([name, key]) =>
      [name, Array.isArray(key) ? key.map(word).join(T.list_separator) : word(key)];
    return fill(template, {
      ...Object.fromEntries(Object.entries(m.wording.values || {}).map(value)),
      ...Object.fromEntries(Object.entries(m.wording.terms || {}).map(term)),
    });
  }

  // `list` ends with `rows` as its children; a row drawn as one already there (the same
  // data-id, drawn the same) stays the element it was. A live page redraws as things change,
  // and a press and a release on two elements, or on one taken out and put back in between,
  // make no click: kept, a row still takes the click, and text being selected in it stays so.
  // A kept row keeps its old listeners: only for rows whose handlers use no more than what
  // the row shows (an id), never data it does not show and that may have changed.
  // Focus in a row drawn anew goes to the new row's same control (`data-action`), else to its
  // first one (never a neighbour of a control gone, which may do something else), else to
  // the list's focusable container: not to the page's start.
  function redrawRows(list, rows) {
    const listed = new Map([...list.children].map((row) => [row.dataset.id, row]));
    labelCells(list.closest("table"), rows);  // as the rows drawn were
    const focused = document.activeElement;
    const from = list.contains(focused) ? [...list.children].find((row) => row.contains(focused)) : null;
    placeRows(list, rows.map((row) => (listed.get(row.dataset.id)?.isEqualNode(row) ? listed.get(row.dataset.id) : row)));
    if (!from || focused.isConnected) return;
    const again = rows.find((row) => row.dataset.id === from.dataset.id);
    const action = focused.dataset.action;
    const same = again && action && again.querySelector(`[data-action="${CSS.escape(action)}"]`);
    (same || again?.querySelector("a[href], button, input, select, textarea") || list.closest("[tabindex]"))?.focus();
  }

  // A settings list drawn anew (`list`'s children become `rows`) keeps the keyboard's place:
  // a control focused in it is focused again in the new rows by its name (each row's buttons
  // are named for their row, "Edit: Ada"), else (the row renamed) at its place when as many
  // rows are drawn, else (its row gone: a token revoked) on the list's heading; not on the
  // page's start, where a dialog closed over the list left it (QA probe).
  const CONTROLS = "a[href], button, input, select, textarea";
  function redrawList(list, rows) {
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    const row = focused && [...list.children].find((child) => child.contains(focused));
    const place = row && [[...list.children].indexOf(row), [...row.querySelectorAll(CONTROLS)].indexOf(focused)];
    const counted = list.children.length;
    const name = focused?.getAttribute("aria-label");
    list.replaceChildren(...rows);
    if (!focused) return;
    const named = name && [...list.querySelectorAll("[aria-label]")]
      .find((el) => el.getAttribute("aria-label") === name);
    const placed = place && rows.length === counted
      ? rows[place[0]].querySelectorAll(CONTROLS)[place[1]] : null;
    const heading = document.getElementById(list.closest("table")?.getAttribute("aria-labelledby"));
    if (heading && !named && !placed) heading.tabIndex = -1;
    (named || placed || heading)?.focus();
  }

  // `parent` ends with `children` (nodes or strings), left untouched if they are drawn as it
  // has them: for a title or a small list with no ids (a customer's identities, attributes),
  // redrawn on every change while an agent may be selecting text in it.
  function replaceIfChanged(parent, children) {
    const nodes = children.map((child) => (typeof child === "string" ? document.createTextNode(child) : child));
    const now = [...parent.childNodes];
    if (now.length !== nodes.length || nodes.some((node, n) => !now[n].isEqualNode(node))) {
      parent.replaceChildren(...nodes);
    }
  }

  // `list` ends with `rows` as its children, moving as few as it can: the rows gone go first,
  // then the longest run of rows already in their order stays untouched and only the others
  // are put in place (a conversation that moves to the top moves alone, not every row it
  // passed). A row moved loses a press on it, as one drawn anew does.
  function placeRows(list, rows) {
    const wanted = new Set(rows);
    for (const child of [...list.children]) if (!wanted.has(child)) child.remove();
    const staying = inOrder(rows.filter((row) => row.parentNode === list), [...list.children]);
    let next = null;
    for (const row of [...rows].reverse()) {
      const placed = next ? row.nextElementSibling === next : row === list.lastElementChild;
      if (!staying.has(row) && !placed) list.insertBefore(row, next);
      next = row;
    }
  }

  // The longest run of `rows` (in the order wanted) whose places in `children` rise: the rows
  // that can stay where they are (patience sorting, n log n).
  function inOrder(rows, children) {
    const place = new Map(children.map((child, i) => [child, i]));
    const tails = [];  // tails[k]: index in rows of the smallest end of a rising run of k + 1
    const before = [];
    rows.forEach((row, i) => {
      const at = place.get(row);
      let lo = 0;
      let hi = tails.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (place.get(rows[tails[mid]]) < at) lo = mid + 1;
        else hi = mid;
      }
      before[i] = lo > 0 ? tails[lo - 1] : -1;
      tails[lo] = i;
    });
    const run = new Set();
    for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = before[i]) run.add(rows[i]);
    return run;
  }

  languageSwitch();  // every page's header has it
  sectionsMenu();
  labelCards();
  window.KithDom = Object.freeze({
    T, ApiError, api, answer, h, say, said, confirmed, fill, unnamed, worded, markFields, showRefusals, date, dateTime, shortDateTime, once, disclosure,
    channelIcon, newestOnly, settled, searchAsTyped, customerChoice, redrawRows, redrawList, placeRows, replaceIfChanged,
  });
})();
