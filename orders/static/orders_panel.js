// A customer's Orders section, one script for the three pages that show it: the inbox's
// customer panel, the single ticket page (beside the ticket) and the customer's Contacts page.
// Each page holds `<section id="orders-panel">` with a `#orders` placeholder; the ticket and
// customer pages name the customer on it (`data-customer-id`, and the conversation a new order
// is made from, `data-conversation-id`), the inbox tells it with the `kith:customer` event.
// It lists the customer's orders (number, status, total, date, items, tracking), offers a
// small form to create one (from the conversation shown, else for the customer), and the
// moves an agent makes. The moves offered are the order's own (`moves`, from the server's
// status machine): paid and delivered at once; shipped through a small form (tracking number
// and carrier, both optional); refunded and cancelled through a form with an optional reason,
// then the page's confirmation dialog naming the order and its amount. Agents and admins write,
// others read (the server's rule too). In the inbox it follows the customer shown (the
// `kith:customer` event, on every change to them) and their orders' events (`kith:event`: a
// move that leaves the customer's figures as they were changes no customer); an order drawn
// as before stays the element it was, so a press or text selected in it survives. It talks
// to /app/api/orders. Customer-supplied text only ever reaches the page through `h` (text
// nodes and attributes).
"use strict";

(() => {
  const { T, api, h, fill, date: day, once, confirmed, markFields, redrawRows, settled } = window.KithDom;
  const section = document.getElementById("orders-panel");
  if (!section) return;
  const canWrite = ["admin", "agent"].includes(document.body.dataset.role);
  // The moves in the order they are offered, each with its button's words; those with a
  // form ask something first.
  const MOVES = [
    { to: "paid", label: "orders_mark_paid" },
    { to: "shipped", label: "orders_mark_shipped", form: shipForm },
    { to: "delivered", label: "orders_mark_delivered" },
    { to: "cancelled", label: "orders_cancel", form: endForm },
    { to: "refunded", label: "orders_refund", form: endForm },
  ];
  let shown = { customerId: null, conversationId: null };
  let exponents = null;
  const MAX_AMOUNT = 2 ** 53;  // the largest amount the server stores (orders/money.py)
  let formAdded = false;
  let uid = 0;
  // The move form open, kept across a redraw of the list (a message from the customer
  // redraws it) while its order still offers that move: what the agent typed stays.
  let open = null;  // { orderId, to, form }
  // Each order as last read, by id: a kept line's buttons act on it, not on the order as it
  // was when the line was drawn (what a line does not show, such as a carrier without a
  // tracking number, may have changed).
  let latest = new Map();
  const now = (order) => latest.get(order.id) || order;

  document.head.append(h("link", { rel: "stylesheet", href: "/app/orders/static/orders_panel.css" }));
  const list = h("ul", { class: "orders-list", "aria-label": T.orders });
  const notice = h("p", { role: "status", class: "orders-notice" });
  document.getElementById("orders").replaceWith(list);
  section.append(notice);

  const say = (text, { error = false } = {}) => {  // as KithDom.say
    notice.textContent = text;
    notice.classList.toggle("notice-error", error && Boolean(text));
  };

  // "12.50" in a currency of 2 decimals is 1250 minor units: string arithmetic, never floats.
  function minorUnits(text, places) {
    const match = /^\s*(\d{1,12})(?:\.(\d*))?\s*$/.exec(text);
    if (!match || (match[2] || "").length > places) return null;
    return Number(match[1]) * 10 ** places + Number((match[2] || "").padEnd(places, "0") || "0");
  }

  function orderItem(order) {
    const status = T["orders_status_" + order.status] || order.status;
    const line = h("li", { class: "order", tabindex: -1, dataset: { id: order.id } },
      h("strong", {}, fill(T.orders_number, order)), ` · ${status} · ${order.total_shown} · ${day(order.placed_at)}`);
    const items = order.items.map((i) => `${i.name} × ${i.quantity}`).join(T.list_separator);
    line.append(h("div", { class: "order-items" }, items));
    const { carrier, tracking_number: tracking } = order.shipping;
    if (tracking) {
      const words = carrier ? T.orders_tracking_by : T.orders_tracking_line;
      line.append(h("div", {}, fill(words, { tracking, carrier })));
    }
    const last = order.history[order.history.length - 1];
    if (last && last.reason && last.status === order.status) {
      line.append(h("div", { class: "order-reason" }, fill(T.orders_why_line, { reason: last.reason })));
    }
    for (const skipped of order.notices.filter((n) => n.outcome === "skipped")) {
      const reason = T["orders_reason_" + skipped.reason] || skipped.reason;
      line.append(h("div", { class: "order-warning" }, fill(T.orders_not_told, { reason })));
    }
    const offered = MOVES.filter((m) => (order.moves || []).includes(m.to));
    if (canWrite && offered.length) line.append(...moves(order, offered));
    return line;
  }

  // The order's buttons, and the place where a move's form opens under them (`show` puts a
  // form open before a redraw back in it). Drawn the same for an order unchanged, ids too.
  function moves(order, offered) {
    const place = h("div", { class: "order-step", id: `order-step-${order.id}` });
    const openers = [];
    const bar = h("div", { class: "order-moves" });
    for (const move of offered) {
      const name = `${T[move.label]} #${order.number}`;
      if (!move.form) {
        const form = h("form", { class: "order-move" },
          h("button", { type: "submit", "aria-label": name, dataset: { action: move.to } }, T[move.label]));
        once(form, () => send(now(order), { status: move.to }, form));
        bar.append(form);
        continue;
      }
      const opener = h("button", {
        type: "button", "aria-label": name, "aria-controls": place.id,
        "aria-expanded": String(Boolean(open && open.orderId === order.id && open.to === move.to)),
        dataset: { to: move.to, action: move.to },
      }, T[move.label]);
      opener.addEventListener("click", () => {
        const again = open && open.orderId === order.id && open.to === move.to;
        close(place, openers);
        if (again) return;
        const form = move.form(now(order), move.to, () => { close(place, openers); opener.focus(); });
        open = { orderId: order.id, to: move.to, form };
        place.append(form);
        opener.setAttribute("aria-expanded", "true");
        form.querySelector("input").focus();
      });
      openers.push(opener);
      bar.append(opener);
    }
    return [bar, place];
  }

  function close(place, openers) {
    place.replaceChildren();
    for (const o of openers) o.setAttribute("aria-expanded", "false");
    open = null;
  }

  // A labelled control with its hint and its error slot (`markFields` fills the slot).
  function field(name, label, control) {
    const id = `order-field-${++uid}`;
    control.id = id;
    control.setAttribute("aria-describedby", `${id}-error`);
    return h("div", { class: "field", "data-field": name },
      h("label", { for: id }, label), " ", control,
      h("span", { class: "field-error", id: `${id}-error` }));
  }

  function moveForm(order, to, title, fields, submit, closeForm) {
    const back = h("button", { type: "button" }, T.orders_close);
    back.addEventListener("click", closeForm);
    const form = h("form", { class: "order-form", "aria-label": fill(title, order), novalidate: true },
      ...fields, h("div", { class: "order-form-buttons" }, h("button", { type: "submit" }, T[submit]), back));
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        closeForm();
      }
    });
    return form;
  }

  function shipForm(order, to, closeForm) {
    const tracking = h("input", { type: "text", maxlength: 100, autocomplete: "off",
      value: order.shipping.tracking_number || "" });
    const carrier = h("input", { type: "text", maxlength: 100, autocomplete: "off",
      value: order.shipping.carrier || "" });
    const form = moveForm(order, to, T.orders_ship_title, [
      field("shipping.tracking_number", T.orders_tracking_optional, tracking),
      field("shipping.carrier", T.orders_carrier_optional, carrier),
    ], "orders_ship", closeForm);
    once(form, () => {
      const shipping = {};
      if (tracking.value.trim()) shipping.tracking_number = tracking.value.trim();
      if (carrier.value.trim()) shipping.carrier = carrier.value.trim();
      const patch = { status: to };
      if (Object.keys(shipping).length) patch.shipping = shipping;
      return send(order, patch, form);
    });
    return form;
  }

  // Refund or cancel: an optional reason (for the agents), then the page's confirmation.
  function endForm(order, to, closeForm) {
    const reason = h("input", { type: "text", maxlength: 500, autocomplete: "off" });
    const words = to === "refunded"
      ? { title: T.orders_refund_title, submit: "orders_refund", ask: T.orders_confirm_refund }
      : { title: T.orders_cancel_title, submit: "orders_cancel", ask: T.orders_confirm_cancel };
    const form = moveForm(order, to, words.title, [field("reason", T.orders_why_optional, reason)],
      words.submit, closeForm);
    once(form, async () => {
      if (!(await confirmed(fill(words.ask, { number: order.number, total: order.total_shown })))) {
        reason.focus();
        return;
      }
      const patch = { status: to };
      if (reason.value.trim()) patch.reason = reason.value.trim();
      return send(order, patch, form);
    });
    return form;
  }

  // Moves the order; on success the list is read again and focus goes to the order's line.
  // A refusal is marked at the form's fields; what has no field there (the order moved on
  // meanwhile: a 409 on status) is said in the section's status, and the list read again.
  async function send(order, patch, form) {
    say("");
    markFields(form, null);
    try {
      const moved = await api("PATCH", `/orders/${encodeURIComponent(order.id)}`, patch);
      open = null;
      await load();
      say(fill(T.orders_moved, { number: moved.number, status: T["orders_status_" + moved.status] || moved.status }));
      const line = list.querySelector(`[data-id="${CSS.escape(order.id)}"]`);
      if (line) line.focus();
    } catch (error) {
      const unplaced = markFields(form, error);
      if (unplaced.length) say(unplaced.map((f) => f.message || error.message).join(" "));
      if (error.status === 409) {  // moved meanwhile (another agent, the shop): as it is now
        open = null;
        await load().catch(() => {});
        const now = error.limits && error.limits.status;
        if (now) say(fill(T.orders_moved_meanwhile, { number: order.number, status: T["orders_status_" + now] || now }));
      }
    }
  }

  // Why a price `minorUnits` refused is wrong, in words that say what to change: too many
  // digits, a comma or space (a thousands separator, or a decimal comma), or too many decimals.
  function priceProblem(text, places, code) {
    const typed = text.trim();
    const plain = /^(\d+)(?:\.\d*)?$/.exec(typed);
    if (plain && plain[1].length > 12) return T.orders_price_too_long;
    if (!plain && /\d/.test(typed) && /^[\d.,\s'’]+$/.test(typed)) return T.orders_price_separator;
    return fill(places ? T.orders_bad_price : T.orders_bad_price_whole, { places, currency: code });
  }

  // The new order's form. A refusal (the browser's checks, or the server's 422) is marked at
  // its fields and the first one focused; the item's name box also takes what the server says
  // of the item as a whole (`items.0.sku`, `items.0.amount`), its SKU being made of the name.
  function createForm() {
    const item = h("input", { type: "text", maxlength: 200, autocomplete: "off" });
    const quantity = h("input", { type: "number", min: 1, max: 1000000, value: 1 });
    const price = h("input", { type: "text", inputmode: "decimal", maxlength: 20, autocomplete: "off" });
    const currency = h("select", {}, ...Object.keys(exponents).map((code) =>
      h("option", { value: code, selected: code === "CNY" }, code)));
    const form = h("form", { class: "order-new", novalidate: true },
      field("items.0", T.orders_item, item),
      field("items.0.quantity", T.orders_quantity, quantity),
      field("items.0.unit_price", T.orders_unit_price, price),
      field("currency", T.orders_currency, currency),
      h("button", { type: "submit" }, T.orders_create));
    const refuse = (fields) => markFields(form, { fields });
    once(form, async () => {  // a second Enter while the first is sent would order twice
      say("");
      markFields(form, null);
      const name = item.value.trim();
      const places = exponents[currency.value];
      const unit = minorUnits(price.value, places);
      const wrong = [];
      // A whole number of items (the server's bounds), checked here so that it is said in
      // the page's language rather than in pydantic's.
      const count = /^\s*\d{1,7}\s*$/.test(quantity.value) ? Number(quantity.value) : NaN;
      if (!name) wrong.push({ field: "items.0", message: T.orders_item_missing });
      if (!(count >= 1 && count <= 1000000)) wrong.push({ field: "items.0.quantity", message: T.orders_bad_quantity });
      else if (unit !== null && count * unit > MAX_AMOUNT) {
        wrong.push({ field: "items.0.quantity", message: T.reason_amount_too_large });
      }
      if (unit === null) {
        wrong.push({ field: "items.0.unit_price", message: priceProblem(price.value, places, currency.value) });
      }
      if (wrong.length) return refuse(wrong);
      // From the conversation shown (the inbox's, the ticket's), else for the customer.
      const body = {
        ...(shown.conversationId ? { conversation_id: shown.conversationId } : { customer_id: shown.customerId }),
        currency: currency.value,
        items: [{ sku: name.slice(0, 64), name, quantity: count, unit_price: unit }],
      };
      try {
        const made = await api("POST", "/orders", body);
        form.reset();
        say(fill(T.orders_created, made));
        await load();
      } catch (error) {  // a refusal of no field (a 503, the network) is said in the status
        for (const f of error.fields || []) {  // pydantic's "valid integer", in the page's words
          if (f.field === "items.0.quantity" && /^int_/.test(f.reason || "")) f.message = T.orders_bad_quantity;
        }
        const unplaced = markFields(form, error);
        const named = error.fields && error.fields.length;
        if (!named) say(error.message, { error: true });
        else if (unplaced.length) say(unplaced.map((f) => f.message || error.message).join(" "));
      }
    });
    return h("details", { class: "orders-new" }, h("summary", {}, T.orders_new), form);
  }

  // The orders drawn anew where they changed. The open move form is taken out while the
  // lines are compared, then put back in its order's place if that order still offers the
  // move: what the agent typed stays, and focus in it.
  function show(items) {
    const focused = document.activeElement;
    latest = new Map(items.map((order) => [order.id, order]));
    if (open) open.form.remove();
    redrawRows(list, items.length ? items.map(orderItem) : [h("li", { dataset: { id: "" } }, T.orders_none)]);
    const line = open && list.querySelector(`[data-id="${CSS.escape(open.orderId)}"]`);
    const opener = line && line.querySelector(`button[data-to="${CSS.escape(open.to)}"]`);
    if (!opener) {
      open = null;
      return;
    }
    line.querySelector(".order-step").append(open.form);
    if (focused && open.form.contains(focused)) focused.focus();
  }

  async function load() {
    const id = shown.customerId;
    if (!id) return;
    const page = await api("GET", `/orders?customer_id=${encodeURIComponent(id)}&limit=20`);
    await settled();
    if (shown.customerId !== id) return;
    show(page.items);
  }

  document.addEventListener("kith:event", ({ detail: event }) => {
    if (event.type.startsWith("order.") && event.customer_id && event.customer_id === shown.customerId) {
      load().catch(() => {});
    }
  });

  // The customer to show: `{ customerId, conversationId, orders? }` (the inbox's answer for
  // them carries their latest orders; after a write the list is read again).
  async function follow(detail) {
    const changed = detail.customerId !== shown.customerId;
    shown = { ...detail };
    if (changed) open = null;
    if (canWrite && !formAdded) {
      formAdded = true;
      exponents = await api("GET", "/orders/currencies");
      section.append(createForm());
    }
    if (changed) say("");
    if (Array.isArray(shown.orders)) show(shown.orders);
    else await load();
  }

  document.addEventListener("kith:customer", (event) => {
    follow(event.detail).catch((error) => say(error.message, { error: true }));
  });

  // The ticket's and the customer's pages: one customer, named on the section. A customer
  // this user may not reach (another team's) has no section here, as they have no panel in
  // the inbox.
  const own = section.dataset.customerId;
  if (own) {
    follow({ customerId: own, conversationId: section.dataset.conversationId || null }).catch((error) => {
      if (error.status === 403 || error.status === 404) section.hidden = true;
      else say(error.message, { error: true });
    });
  }
})();
