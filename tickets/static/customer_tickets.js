// The customer page's Tickets (contacts_customer.html): the customer's tickets, the latest
// first, each linked to its page with its status and priority, as a desk's customer page
// lists them. The page is the contacts'; what a ticket is, is this feature's.
"use strict";

(() => {
  const { api, h } = window.KithDom;
  const { status, priority } = window.KithTickets;
  const section = document.getElementById("customer-tickets");
  if (!section) return;
  const list = section.querySelector("ul");
  const none = section.querySelector(".empty");

  async function load() {
    const customer = encodeURIComponent(section.dataset.customerId);
    const page = await api("GET", `/tickets?customer_id=${customer}&limit=25`);
    list.replaceChildren(...page.items.map((t) => h("li", {},
      h("a", { href: `/app/tickets/${encodeURIComponent(t.id)}` }, `#${t.number} ${t.subject}`), " ",
      h("span", { class: "ticket-status status-" + t.status }, status(t.status)), " ",
      h("span", { class: "prio prio-" + t.priority }, priority(t.priority)))));
    none.hidden = page.items.length > 0;
  }

  load().catch((error) => {
    none.textContent = error.message;
    none.hidden = false;
  });
})();
