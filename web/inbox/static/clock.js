// The demo clock in the header: shown only when Kith's clock runs faster than real time
// (`kith demo`: an hour per second), ticking on locally from the server's time and speed.
"use strict";

(() => {
  const shown = document.getElementById("demo-clock");
  if (!shown) return;
  const out = shown.querySelector("time");
  const locale = document.body.dataset.locale === "zh" ? "zh-CN" : "en-GB";
  const format = new Intl.DateTimeFormat(locale, {
    weekday: "short", year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit",
  });

  async function start() {
    const response = await fetch("/app/api/clock", { credentials: "same-origin" });
    if (!response.ok) return;
    const { now, speed } = await response.json();
    if (speed === 1) return;
    const base = Date.parse(now);
    const since = performance.now();
    const tick = () => {
      const at = new Date(base + (performance.now() - since) * speed);
      out.dateTime = at.toISOString();
      out.textContent = format.format(at);
    };
    tick();
    shown.hidden = false;
    setInterval(tick, 250);
  }

  start().catch(() => {});
})();
