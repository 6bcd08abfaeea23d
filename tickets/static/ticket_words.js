// What the ticket scripts share: status and priority names in the page's language, a date,
// and a refused move worded from the server's limits (`{name}` slots filled by KithDom.fill).
"use strict";

(() => {
  const { T, fill, dateTime: when } = window.KithDom;
  const locale = document.body.dataset.locale === "zh" ? "zh-CN" : "en";

  const status = (s) => T["ticket_status_" + s] || s;
  const priority = (p) => T["ticket_priority_" + p] || p;

  // A 409 on a move names the ticket's status and the allowed ones: say it in the page's
  // language; any other failure is the server's own message.
  function refusal(error, number) {
    if (error.reason !== "transition_refused" || !error.limits) return error.message;
    // The server lists them alphabetically: say them in the order work flows (the board's).
    const order = JSON.parse(document.getElementById("ticket-shapes").textContent).statuses;
    const allowed = order.filter((s) => (error.limits.allowed || []).includes(s)).map(status);
    const template = allowed.length ? T.tickets_refused : T.tickets_refused_none;
    return fill(template, {
      number, status: status(error.limits.status), allowed: allowed.join(locale === "en" ? ", " : "、"),
    });
  }

  window.KithTickets = Object.freeze({ status, priority, when, refusal });
})();
