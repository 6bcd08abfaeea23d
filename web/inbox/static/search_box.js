// The search across everything (kith.web.inbox.search_page), on every page: a list opened
// by a "see all" link (`?q=…`, the inbox's also `&status=any`) starts with its own search box
// filled, before the list's script reads its form; on the search page, the arrow keys move
// from the box through the results and back (Tab goes through them too, as links do).
"use strict";

(() => {
  const asked = new URLSearchParams(window.location.search);
  const box = document.querySelector("main form input[name='q']");
  if (box && !box.value && asked.get("q")) {
    box.value = asked.get("q").slice(0, box.maxLength > 0 ? box.maxLength : undefined);
    const status = box.form.elements.namedItem("status");
    const wanted = asked.get("status");
    if (status instanceof HTMLSelectElement && [...status.options].some((o) => o.value === wanted)) {
      status.value = wanted;
    }
  }

  const results = document.querySelector("[data-results]");
  const start = document.getElementById("find-q");
  if (!results || !start) return;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const stops = [start, ...results.querySelectorAll("a")];
    const at = stops.indexOf(document.activeElement);
    if (at < 0) return;
    const next = at + (event.key === "ArrowDown" ? 1 : -1);
    if (next < 0 || next >= stops.length) return;
    event.preventDefault();
    stops[next].focus();
  });
})();
