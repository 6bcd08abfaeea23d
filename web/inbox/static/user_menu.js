// The header's user menu (page_base.html): a disclosure button that shows the user's account
// link, language and sign-out. Enter or Space toggles it (a native button); Tab moves through
// its items; Escape closes it and gives focus back to the button; a click outside it or focus
// leaving it closes it too. The button stays disabled until this has run (a click would be
// lost).
"use strict";

(() => {
  const button = document.getElementById("user-menu-button");
  const panel = document.getElementById("user-menu");
  if (!button || !panel) return;
  const menu = button.parentElement;

  function show(open) {
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
  }

  button.addEventListener("click", () => show(panel.hidden));
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || panel.hidden) return;
    event.preventDefault();
    show(false);
    button.focus();
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !menu.contains(event.target)) show(false);
  });
  menu.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !menu.contains(event.relatedTarget)) show(false);
  });
  button.disabled = false;  // it opens now
})();
