// What the ticket scripts share: status and priority names in the page's language, a date,
// a span of time, a ticket's SLA badge, and a refused move worded from the server's limits
// (`{name}` slots filled by KithDom.fill).
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

  // A stretch of time in whole minutes, hours or days, in the page's language.
  function span(ms) {
    const minutes = Math.max(0, Math.floor(Math.abs(ms) / 60000));
    const d = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const m = minutes % 60;
    if (d) return `${d} ${T.ticket_unit_d} ${hours} ${T.ticket_unit_h}`;
    if (hours) return `${hours} ${T.ticket_unit_h} ${m} ${T.ticket_unit_min}`;
    return `${m} ${T.ticket_unit_min}`;
  }

  const METRICS = ["first_reply", "next_reply", "resolution"];
  const metricName = (m) => T["ticket_sla_" + m] || m;

  // A ticket's SLA in one badge, for the list and the board (Zendesk's "Next SLA breach"):
  // the running clock that is due first, overdue ("breached") or not ("next breach", "breach
  // soon" once its warning came); else paused; else a breach it had (a solved ticket's). `now` is
  // Kith's clock in ms. Null when the ticket has no SLA to show. The words say it all; the
  // colour (the `kind` class) only repeats them.
  function slaBadge(ticket, now) {
    const sla = ticket.sla;
    if (!sla || typeof sla !== "object") return null;
    const due = METRICS.filter((m) => sla[`${m}_due_at`])
      .map((metric) => ({ metric, at: Date.parse(sla[`${metric}_due_at`]) }))
      .sort((a, b) => a.at - b.at);
    if (due.length) {
      const { metric, at } = due[0];
      const values = { metric: metricName(metric), time: span(at - now) };
      if (at <= now) return { kind: "breached", text: fill(T.tickets_sla_overdue, values) };
      // Within the warning: the server marked it, or its warning moment (in the policy's
      // business time, so not simply due minus the threshold) has passed on this page.
      const clock = (sla.metrics && sla.metrics[metric]) || {};
      const warned = Boolean(clock.warned || (clock.warn_at && Date.parse(clock.warn_at) <= now));
      return warned
        ? { kind: "soon", text: fill(T.tickets_sla_soon, values) }
        : { kind: "next", text: fill(T.tickets_sla_next, values) };
    }
    if (sla.paused && sla.policy) return { kind: "paused", text: T.tickets_sla_paused };
    const missed = (sla.breached || []).filter((m) => METRICS.includes(m));
    if (missed.length) {
      const metrics = missed.map(metricName).join(locale === "en" ? ", " : "、");
      return { kind: "breached", text: fill(T.tickets_sla_missed, { metrics }) };
    }
    return null;
  }

  window.KithTickets = Object.freeze({ status, priority, when, refusal, span, slaBadge });
})();
