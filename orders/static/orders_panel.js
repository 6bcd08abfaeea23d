// The Orders section of the inbox's customer panel: the customer's orders (number, status,
// total, date), a small form to create one from the open conversation, and the moves an agent
// makes (paid, shipped with a tracking number, delivered). It follows the customer the inbox
// shows (the `kith:customer` event) and talks to /app/api/orders. Customer-supplied text only
// ever reaches the page through `h` (text nodes and attributes).
"use strict";

(() => {
  const { T, api, h, fill, date: day, once } = window.KithDom;
  const section = document.getElementById("orders-panel");
  if (!section) return;
  const canWrite = ["admin", "agent"].includes(document.body.dataset.role);
  const NEXT = { pending: ["paid", "orders_mark_paid"], paid: ["shipped", "orders_mark_shipped"],
    shipped: ["delivered", "orders_mark_delivered"] };
  let shown = { customerId: null, conversationId: null };
  let exponents = null;
  let formAdded = false;

  document.head.append(h("link", { rel: "stylesheet", href: "/app/orders/static/orders_panel.css" }));
  const list = h("ul", { class: "orders-list", "aria-label": T.orders });
  const notice = h("p", { role: "status", class: "orders-notice" });
  document.getElementById("orders").replaceWith(list);
  section.append(notice);

  const say = (text) => { notice.textContent = text; };

  // "12.50" in a currency of 2 decimals is 1250 minor units: string arithmetic, never floats.
  function minorUnits(text, places) {
    const match = /^\s*(\d{1,12})(?:[.,](\d*))?\s*$/.exec(text);
    if (!match || (match[2] || "").length > places) return null;
    return Number(match[1]) * 10 ** places + Number((match[2] || "").padEnd(places, "0") || "0");
  }

  function orderItem(order) {
    const status = T["orders_status_" + order.status] || order.status;
    const line = h("li", { class: "order", dataset: { orderId: order.id } },
      h("strong", {}, fill(T.orders_number, order)), ` · ${status} · ${order.total_shown} · ${day(order.placed_at)}`);
    const items = order.items.map((i) => `${i.name} × ${i.quantity}`).join(", ");
    line.append(h("div", { class: "order-items" }, items));
    if (order.shipping.tracking_number) line.append(h("div", {}, `${T.orders_tracking}: ${order.shipping.tracking_number}`));
    for (const skipped of order.notices.filter((n) => n.outcome === "skipped")) {
      const reason = T["orders_reason_" + skipped.reason] || skipped.reason;
      line.append(h("div", { class: "order-warning" }, fill(T.orders_not_told, { reason })));
    }
    const next = NEXT[order.status];
    if (canWrite && next) line.append(moveForm(order, ...next));
    return line;
  }

  function moveForm(order, to, label) {
    const tracking = to === "shipped"
      ? h("input", { type: "text", maxlength: 100, "aria-label": `${T.orders_tracking} #${order.number}` }) : null;
    const form = h("form", { class: "order-move" }, tracking,
      h("button", { type: "submit", "aria-label": `${T[label]} #${order.number}` }, T[label]));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const patch = { status: to };
      if (tracking && tracking.value.trim()) patch.shipping = { tracking_number: tracking.value.trim() };
      try {
        await api("PATCH", `/orders/${encodeURIComponent(order.id)}`, patch);
        say("");
        await load();
      } catch (error) {
        say(error.message);
      }
    });
    return form;
  }

  function createForm() {
    const item = h("input", { type: "text", required: true, maxlength: 200 });
    const quantity = h("input", { type: "number", required: true, min: 1, max: 1000000, value: 1 });
    const price = h("input", { type: "text", required: true, inputmode: "decimal", maxlength: 20 });
    const currency = h("select", {}, ...Object.keys(exponents).map((code) =>
      h("option", { value: code, selected: code === "CNY" }, code)));
    const form = h("form", { class: "order-new" },
      h("label", {}, T.orders_item, " ", item),
      h("label", {}, T.orders_quantity, " ", quantity),
      h("label", {}, T.orders_unit_price, " ", price),
      h("label", {}, T.orders_currency, " ", currency),
      h("button", { type: "submit" }, T.orders_create));
    once(form, async () => {  // a second Enter while the first is sent would order twice
      const places = exponents[currency.value];
      const unit = minorUnits(price.value, places);
      if (unit === null) {
        say(fill(T.orders_bad_price, { places }));
        price.focus();
        return;
      }
      const name = item.value.trim();
      const body = {
        conversation_id: shown.conversationId,
        currency: currency.value,
        items: [{ sku: name.slice(0, 64), name, quantity: Number(quantity.value), unit_price: unit }],
      };
      try {
        const made = await api("POST", "/orders", body);
        form.reset();
        say(fill(T.orders_created, made));
        await load();
      } catch (error) {
        say(error.message);
      }
    });
    return h("details", { class: "orders-new" }, h("summary", {}, T.orders_new), form);
  }

  function show(items) {
    list.replaceChildren(...items.map(orderItem));
    if (!items.length) list.replaceChildren(h("li", {}, T.orders_none));
  }

  async function load() {
    const id = shown.customerId;
    if (!id) return;
    const page = await api("GET", `/orders?customer_id=${encodeURIComponent(id)}&limit=20`);
    if (shown.customerId !== id) return;
    show(page.items);
  }

  document.addEventListener("kith:customer", async (event) => {
    const changed = event.detail.customerId !== shown.customerId;
    shown = { ...event.detail };
    if (canWrite && !formAdded) {
      formAdded = true;
      exponents = await api("GET", "/orders/currencies");
      section.append(createForm());
    }
    if (changed) say("");
    // The customer's answer carries their latest orders; after a write the list is read again.
    if (Array.isArray(shown.orders)) show(shown.orders);
    else await load().catch((error) => say(error.message));
  });
})();
