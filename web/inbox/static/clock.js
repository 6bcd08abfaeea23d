// Kith's own time for the pages (`KithClock.now()`, milliseconds), and the demo clock in the
// header, shown only when Kith's clock runs faster than real time (`kith demo`: an hour per
// second), ticking on locally from the server's time and speed. Until the server answers,
// Kith's time is the browser's; once it has, `<html data-clock="kith">` says so.
"use strict";

window.KithClock = { now: () => Date.now() };

(() => {
  const shown = document.getElementById("demo-clock");
  const locale = document.body.dataset.locale === "zh" ? "zh-CN" : "en-GB";
  // Short in the header ("Sun 6 Dec, 13:52", its label read out but not shown), whole in its
  // tooltip: the header holds it on one row with the sections and the user menu.
  const whole = { weekday: "short", year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit" };
  const format = new Intl.DateTimeFormat(locale, { ...whole, year: undefined });
  const full = new Intl.DateTimeFormat(locale, whole);

  async function start() {
    const response = await fetch("/app/api/clock", { credentials: "same-origin" });
    if (!response.ok) return;
    const { now, speed } = await response.json();
    const base = Date.parse(now);
    const since = performance.now();
    window.KithClock.now = () => base + (performance.now() - since) * speed;
    document.documentElement.dataset.clock = "kith";  // Kith's time from here on
    if (speed === 1 || !shown) return;
    const out = shown.querySelector("time");
    const label = shown.querySelector("span").textContent;
    const tick = () => {
      const at = new Date(window.KithClock.now());
      out.dateTime = at.toISOString();
      out.textContent = format.format(at);
      shown.title = `${label} ${full.format(at)}`;
    };
    tick();
    shown.hidden = false;
    setInterval(tick, 250);
  }

  start().catch(() => {});
})();
