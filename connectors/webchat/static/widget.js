/* Kith web chat widget: a launcher and chat window talking to Kith over HTTP and SSE.
 *
 * Hand-written, no dependencies. Everything a customer, an agent or a bot wrote is put on the
 * page with textContent (never parsed as HTML), links and images only with http(s) URLs, and the
 * widget lives in a shadow root so the host page's styles and ours do not mix.
 *
 * The page may set, before this script loads:
 *   window.kithSettings = { user_id, user_hash, name, email, locale }
 * user_hash is HMAC-SHA256(identity secret, user_id), computed by the business's server.
 * The widget's own words follow `locale` ("en" or "zh"), else the script tag's data-locale,
 * else the browser's languages. Times are written in the visitor's own format for that
 * language (their browser's locale when it is one of it): the time of day, and the date too
 * when it is not today.
 *
 * When a person of the team first writes after the bot (or at all), a line says they joined.
 * It is derived from the messages in order, so a reload draws the same lines, once each.
 *
 * While the visitor waits for a person, a line says how long the team usually takes (or when
 * it is back), and a visitor Kith has no email for may leave one. While someone of the team
 * types a reply, "李娜 is typing…" shows until the reply comes or the stream says otherwise
 * (or, should the stream fall silent, once the time it gave runs out).
 *
 * Quick replies answer the newest message only: once a newer one shows (the visitor's, the
 * bot's or a person's; a hand-off to a person always says so first), the older buttons stay
 * readable but greyed and disabled, so that none sends words that no bot answers any more.
 * Link buttons stay (they send nothing). Nothing is announced beyond the disabled state.
 *
 * A message is kept in localStorage (per channel and page user) from the moment it is typed
 * until Kith has stored it, so going offline or reloading the page loses nothing. Each carries
 * a client_id made once; Kith stores one message per visitor and client_id, so a resend after a
 * lost answer is never stored twice.
 */
(function () {
  "use strict";
  var BOOT = /*KITH_BOOT*/null;
  if (!BOOT || window["__kithChat_" + BOOT.channel]) return;
  window["__kithChat_" + BOOT.channel] = true;

  var settings = window.kithSettings || {};
  // Kith's address: KITH_PUBLIC_URL when set, else where this very script was loaded from
  // (never the request's Host header: this script is cached publicly).
  var script = document.currentScript;
  var base = BOOT.base || (script && script.src ? script.src.replace(/\/widget\/[^\/]*\.js(\?.*)?$/, "") : "");
  var api = base + "/widget/" + encodeURIComponent(BOOT.channel);
  var storageKey = "kith.chat." + BOOT.channel;
  // Unsent messages, per channel and per the page's user (a logout must not send them as the next).
  var unsentKey = storageKey + ".unsent." + (settings.user_id ? String(settings.user_id) : "-");
  var STRINGS = {
    en: {
      lang: "en",
      open: "Open chat",
      close: "Close chat",
      chat: "Chat",
      messages: "Messages",
      message: "Message",
      placeholder: "Write a message…",
      send: "Send",
      retry: "Not sent. Retry",
      unavailable: "Chat is unavailable right now.",
      reconnecting: "Reconnecting… Unsent messages will go out when you are back online.",
      image: "image",
      newer: "New messages below",
      joined: "{name} joined the conversation",
      typing: "{name} is typing…",
      usual_minute: "Usually replies in about a minute",
      usual_minutes: "Usually replies in about {n} minutes",
      usual_hour: "Usually replies in about an hour",
      usual_hours: "Usually replies in about {n} hours",
      away: "We're away; back {day} {time}",
      days: { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" },
      email_ask: "Leave your email and we'll reply there too",
      email_label: "Your email",
      email_save: "Save",
      email_bad: "That doesn't look like an email address.",
      email_thanks: "Thanks! We'll reply to {email} too."
    },
    zh: {
      lang: "zh-CN",
      open: "打开聊天",
      close: "关闭聊天",
      chat: "聊天",
      messages: "消息记录",
      message: "消息",
      placeholder: "输入消息…",
      send: "发送",
      retry: "未发送，点击重试",
      unavailable: "聊天暂时不可用。",
      reconnecting: "正在重新连接… 网络恢复后会自动发送未发出的消息。",
      image: "图片",
      newer: "下方有新消息",
      joined: "{name} 已加入对话",
      typing: "{name} 正在输入…",
      usual_minute: "通常在 1 分钟内回复",
      usual_minutes: "通常在 {n} 分钟内回复",
      usual_hour: "通常在 1 小时内回复",
      usual_hours: "通常在 {n} 小时内回复",
      away: "我们暂时不在，{day} {time} 回来",
      days: { mon: "周一", tue: "周二", wed: "周三", thu: "周四", fri: "周五", sat: "周六", sun: "周日" },
      email_ask: "留下您的邮箱，我们也会通过邮件回复您",
      email_label: "您的邮箱",
      email_save: "保存",
      email_bad: "这不像是一个邮箱地址。",
      email_thanks: "谢谢！我们也会回复到 {email}。"
    }
  };
  var t = STRINGS[pickLocale()];
  // The visitor's own locales of the widget's language (en-GB writes 14:05), then the widget's.
  var timeLocales = (navigator.languages || [navigator.language]).filter(function (tag) {
    return String(tag || "").toLowerCase().indexOf(t.lang.slice(0, 2)) === 0;
  }).concat([t.lang]);
  var state = {
    token: load(),
    booted: null,
    open: false,
    unread: 0,
    lastEventId: null,
    streaming: false,
    backoff: 1000,
    byId: {},
    pending: {},
    online: navigator.onLine !== false,
    connected: false,
    noticed: false,
    sending: false,
    attempts: 0,
    timer: null,
    agent: null,  // the person last announced as having joined, until the bot speaks again
    typingTimer: null,
    waitAsking: false,  // a GET /wait in flight
    waitAgain: false,  // asked again meanwhile: ask once more when it answers
    emailGiven: null  // the address left in this page: never asked again
  };

  /** "en" or "zh": the page's explicit choice first, then the browser's languages in order. */
  function pickLocale() {
    var wanted = [settings.locale, script && script.getAttribute("data-locale")];
    wanted = wanted.concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var tag = String(wanted[i] || "").toLowerCase();
      if (tag.indexOf("zh") === 0) return "zh";
      if (tag.indexOf("en") === 0) return "en";
    }
    return "en";
  }

  function load() {
    try { return window.localStorage.getItem(storageKey); } catch (e) { return null; }
  }
  function save(token) {
    state.token = token;
    try { window.localStorage.setItem(storageKey, token); } catch (e) { /* cookies only */ }
  }

  /* ---- unsent messages: read from storage on every change, so two tabs do not undo each other ---- */

  function unsent() {
    try {
      var items = JSON.parse(window.localStorage.getItem(unsentKey) || "[]");
      return Array.isArray(items) ? items.filter(function (m) {
        return m && typeof m.client_id === "string" && typeof m.text === "string";
      }) : [];
    } catch (e) {
      return [];
    }
  }
  function keepUnsent(items) {
    try {
      if (items.length) window.localStorage.setItem(unsentKey, JSON.stringify(items));
      else window.localStorage.removeItem(unsentKey);
    } catch (e) { /* storage refused: the message still goes out while the page is open */ }
  }
  function enqueue(item) {
    var items = unsent().filter(function (m) { return m.client_id !== item.client_id; });
    items.push(item);
    keepUnsent(items);
  }
  function unqueue(clientId) {
    var items = unsent();
    var rest = items.filter(function (m) { return m.client_id !== clientId; });
    if (rest.length !== items.length) keepUnsent(rest);
  }

  function newId() {
    var c = window.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    var bytes = new Uint8Array(16);
    c.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  /* ---- HTTP ---- */

  function headers(extra) {
    var h = { "Content-Type": "application/json" };
    if (state.token) h["X-Kith-Visitor"] = state.token;
    for (var k in extra || {}) h[k] = extra[k];
    return h;
  }

  function call(method, path, body) {
    return fetch(api + path, {
      method: method,
      credentials: "include",
      headers: headers(),
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var err = new Error((data.error && data.error.message) || "HTTP " + res.status);
          err.status = res.status;
          throw err;
        }
        return data;
      });
    });
  }

  function startSession() {
    var body = {};
    if (settings.user_id) {
      body.user_id = String(settings.user_id);
      if (settings.user_hash) body.user_hash = String(settings.user_hash);
    }
    return call("POST", "/session", body).then(function (ans) { save(ans.token); });
  }

  function boot() {
    if (!state.booted) {
      state.booted = startSession().then(loadHistory).then(stream);
      state.booted.catch(function (err) {
        state.booted = null;
        if (!err.status && !state.online) return;  // the "Reconnecting" hint says it all
        if (state.noticed) return;
        state.noticed = true;
        // The visitor is told in their language; why (the browser's or Kith's English, such
        // as an origin not allowed) is for the site's developer, in the console.
        notice(t.unavailable);
        if (window.console) window.console.warn("Kith chat is unavailable: " + err.message);
      });
    }
    return state.booted;
  }

  function loadHistory() {
    return call("GET", "/messages?limit=100").then(function (ans) {
      ans.items.forEach(function (m) { show(m, null, true); });
      if (ans.stream_after && !state.lastEventId) state.lastEventId = ans.stream_after;
      if (ans.items.length) askWait();
    });
  }

  /* ---- waiting for a person: the usual wait, the email offer, who is typing ---- */

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function waitText(ans) {
    if (ans.back_at && t.days[ans.back_at.day]) {
      return fill(t.away, { day: t.days[ans.back_at.day], time: ans.back_at.time });
    }
    var minutes = ans.reply_minutes;
    if (!minutes) return "";
    if (minutes <= 1) return t.usual_minute;
    if (minutes < 60) return fill(t.usual_minutes, { n: minutes });
    var hours = Math.round(minutes / 60);
    return hours <= 1 ? t.usual_hour : fill(t.usual_hours, { n: hours });
  }

  function showWait(ans) {
    var text = ans.waiting ? waitText(ans) : "";
    waitLine.textContent = text;
    waitLine.hidden = !text;
    var ask = !!(ans.waiting && ans.ask_email && !state.emailGiven);
    if (ask && emailForm.hidden) {
      emailError.hidden = true;
      emailInput.removeAttribute("aria-invalid");
    }
    emailForm.hidden = !ask;
    emailThanks.hidden = !(ans.waiting && state.emailGiven);
  }

  /** Asks Kith whether the visitor waits for a person, one request at a time. */
  function askWait() {
    if (!state.token) return;
    if (state.waitAsking) {
      state.waitAgain = true;
      return;
    }
    state.waitAsking = true;
    call("GET", "/wait").then(showWait, function () { /* nothing to say: say nothing */ })
      .then(function () {
        state.waitAsking = false;
        if (state.waitAgain) {
          state.waitAgain = false;
          askWait();
        }
      });
  }

  /** Shows "李娜 is typing…" for `expires_in` seconds (a new frame renews it); null hides it. */
  function typing(data) {
    clearTimeout(state.typingTimer);
    if (!data || !data.name) {
      typingLine.hidden = true;
      typingLine.textContent = "";
      return;
    }
    typingLine.textContent = fill(t.typing, { name: data.name });
    typingLine.hidden = false;
    state.typingTimer = setTimeout(function () { typing(null); }, Math.max(1, data.expires_in || 0) * 1000);
  }

  function leaveEmail(event) {
    event.preventDefault();
    var email = emailInput.value.trim();
    emailSave.disabled = true;
    call("POST", "/email", { email: email }).then(function (ans) {
      state.emailGiven = email;
      emailThanks.textContent = fill(t.email_thanks, { email: email });
      emailInput.value = "";
      showWait(ans);
      emailThanks.hidden = false;
      input.focus();
    }, function (err) {
      emailError.textContent = err.status === 422 ? t.email_bad : err.message;
      emailError.hidden = false;
      emailInput.setAttribute("aria-invalid", "true");
      emailInput.focus();
    }).then(function () { emailSave.disabled = false; });
  }

  /* ---- live replies: Server-Sent Events read with fetch, so the visitor header is sent ---- */

  function stream() {
    if (state.streaming) return;
    state.streaming = true;
    var extra = {};
    if (state.lastEventId) extra["Last-Event-ID"] = state.lastEventId;
    fetch(api + "/events", { credentials: "include", headers: headers(extra) })
      .then(function (res) {
        if (!res.ok || !res.body) {
          var err = new Error("HTTP " + res.status);
          err.status = res.status;
          throw err;
        }
        state.backoff = 1000;
        reachable(true);
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error("stream closed");
            buffer += decoder.decode(chunk.value, { stream: true });
            var blocks = buffer.split(/\r?\n\r?\n/);
            buffer = blocks.pop();
            blocks.forEach(onBlock);
            return pump();
          });
        }
        return pump();
      })
      .catch(function (err) {
        state.streaming = false;
        if (!err || !err.status) reachable(false);
        var wait = state.backoff;
        state.backoff = Math.min(state.backoff * 2, 30000);
        if (err && err.status === 401) {  // the session is gone (new server key): start over
          state.token = null;
          state.booted = null;
          setTimeout(boot, wait);
          return;
        }
        setTimeout(stream, wait);
      });
  }

  function onBlock(block) {
    var id = null, type = "message", data = [];
    block.split(/\r?\n/).forEach(function (line) {
      if (line.charAt(0) === ":") return;
      var i = line.indexOf(":");
      var field = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") type = value;
      else if (field === "data") data.push(value);
    });
    if (id !== null) state.lastEventId = id;
    if (!data.length) return;
    var parsed;
    try { parsed = JSON.parse(data.join("\n")); } catch (e) { return; /* a broken event */ }
    if (type === "message") show(parsed);
    else if (type === "typing") typing(parsed);
  }

  /* ---- the window ---- */

  var host = document.createElement("div");
  host.setAttribute("data-kith-chat", BOOT.channel);
  host.setAttribute("lang", t.lang);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  if (BOOT.color) host.style.setProperty("--kith-accent", BOOT.color);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  var style = el("style", null, BOOT.css || "");
  var launcher = el("button", "kith-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-label", t.open);
  launcher.setAttribute("aria-expanded", "false");
  launcher.appendChild(chatIcon());
  var badge = el("span", "kith-badge");
  badge.hidden = true;
  launcher.appendChild(badge);

  var panel = el("section", "kith-panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", BOOT.title || t.chat);
  panel.hidden = true;
  var header = el("header", "kith-header");
  header.appendChild(el("h2", "kith-title", BOOT.title || t.chat));
  var close = el("button", "kith-close", "\u00D7");
  close.type = "button";
  close.setAttribute("aria-label", t.close);
  header.appendChild(close);
  var status = el("p", "kith-status");  // "Reconnecting…" while the connection is down
  status.setAttribute("role", "status");
  status.hidden = true;
  var log = el("div", "kith-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", t.messages);
  // The greeting in the widget's language where the business wrote one for it.
  var greeting = t.lang.indexOf("zh") === 0
    ? BOOT.greeting_zh || BOOT.greeting : BOOT.greeting || BOOT.greeting_zh;
  if (greeting) log.appendChild(bubble("out", "kith-greeting", greeting));
  // A message that arrives while the visitor reads further up leaves them where they are and
  // shows this button instead (as Intercom and Crisp do); at the end, the log follows along.
  var jump = el("button", "kith-jump", "\u2193 " + t.newer);
  jump.type = "button";
  jump.hidden = true;
  jump.addEventListener("click", function () {
    toEnd();
    input.focus();
  });
  // Whether the log follows new messages: as the visitor last left it by scrolling (a line
  // shown below the log, such as the usual wait, shrinks it without anyone scrolling). A
  // scroll event comes a frame late: one at the place the widget itself scrolled to says
  // nothing of the visitor, even if the log has shrunk since.
  var following = true;
  var placed = null;  // the scrollTop toEnd() last set
  log.addEventListener("scroll", function () {
    if (log.scrollTop === placed) return;
    placed = null;  // the visitor scrolled: back at the end, they follow again
    following = atEnd();
    if (following) jump.hidden = true;
  });
  if (window.ResizeObserver) new ResizeObserver(function () { if (following) toEnd(); }).observe(log);
  // While waiting for a person: the usual wait (or when the team is back), the email offer,
  // and who is typing, between the messages and the box.
  var waitLine = el("p", "kith-wait");
  waitLine.hidden = true;
  var emailForm = el("form", "kith-email");
  emailForm.hidden = true;
  emailForm.noValidate = true;  // Kith checks the address and says what is wrong, in our words
  var emailAsk = el("label", "kith-email-ask", t.email_ask);
  emailAsk.htmlFor = "kith-email-input";
  var emailRow = el("div", "kith-email-row");
  var emailInput = el("input", "kith-email-input");
  emailInput.type = "email";
  emailInput.id = "kith-email-input";
  emailInput.autocomplete = "email";
  emailInput.maxLength = 320;
  emailInput.placeholder = t.email_label;
  emailInput.setAttribute("aria-describedby", "kith-email-error");
  var emailSave = el("button", "kith-email-save", t.email_save);
  emailSave.type = "submit";
  var emailError = el("p", "kith-email-error");
  emailError.id = "kith-email-error";
  emailError.setAttribute("role", "alert");
  emailError.hidden = true;
  emailRow.appendChild(emailInput);
  emailRow.appendChild(emailSave);
  emailForm.appendChild(emailAsk);
  emailForm.appendChild(emailRow);
  emailForm.appendChild(emailError);
  var emailThanks = el("p", "kith-email-thanks");
  emailThanks.setAttribute("role", "status");
  emailThanks.hidden = true;
  var typingLine = el("p", "kith-typing");
  typingLine.setAttribute("role", "status");
  typingLine.setAttribute("aria-live", "polite");
  typingLine.hidden = true;
  var form = el("form", "kith-form");
  var input = el("textarea", "kith-input");
  input.rows = 1;
  input.maxLength = 5000;
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.message);
  var sendButton = el("button", "kith-send", t.send);
  sendButton.type = "submit";
  form.appendChild(input);
  form.appendChild(sendButton);
  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(jump);
  panel.appendChild(typingLine);
  panel.appendChild(waitLine);
  panel.appendChild(emailForm);
  panel.appendChild(emailThanks);
  panel.appendChild(form);
  root.appendChild(style);
  root.appendChild(panel);
  root.appendChild(launcher);

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  function bubble(direction, extraClass, text) {
    var node = el("div", "kith-msg kith-" + direction + (extraClass ? " " + extraClass : ""));
    if (text) node.appendChild(el("p", "kith-text", text));
    return node;
  }

  function atEnd() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  function toEnd() {
    log.scrollTop = log.scrollHeight;
    placed = log.scrollTop;
    following = true;
    jump.hidden = true;
  }

  function notice(text) {
    log.appendChild(el("p", "kith-notice", text));
    followed();
  }

  /** Something new is in the log: shown if the visitor was at the end, else the "new
   *  messages" button says it is below. */
  function followed() {
    if (following) toEnd();
    else jump.hidden = false;
  }

  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.setAttribute("aria-label", open ? t.close : t.open);
    if (open) {
      state.unread = 0;
      badge.hidden = true;
      boot();
      input.focus();
      toEnd();
    }
  }

  /** A <time> for an ISO instant: the time of day, with the date when not today. */
  function stamp(iso) {
    // Kith writes UTC; an instant without a zone is read as UTC, not as local time.
    var text = String(iso || "");
    var at = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : text + "Z");
    if (isNaN(at.getTime())) return null;
    var now = new Date();
    var shown = { hour: "numeric", minute: "2-digit" };
    if (at.toDateString() !== now.toDateString()) {
      shown.month = "short";
      shown.day = "numeric";
      if (at.getFullYear() !== now.getFullYear()) shown.year = "numeric";
    }
    var node = el("time", "kith-time", new Intl.DateTimeFormat(timeLocales, shown).format(at));
    node.setAttribute("datetime", at.toISOString());
    node.title = new Intl.DateTimeFormat(timeLocales, { dateStyle: "full", timeStyle: "short" }).format(at);
    return node;
  }

  /** "李娜 joined the conversation" before the first message of a person after the bot's. */
  function announce(m, node) {
    if (m.direction === "in" || !m.author) return;
    if (m.author.kind === "bot") {
      state.agent = null;
      return;
    }
    var name = m.author.person && m.author.name;
    if (!name || name === state.agent) return;
    state.agent = name;
    var line = el("p", "kith-notice kith-joined", t.joined.split("{name}").join(name));
    node.parentNode.insertBefore(line, node);
  }

  function render(m) {
    var node = bubble(m.direction === "in" ? "in" : "out", null, m.text);
    node.setAttribute("data-id", m.id);
    if (m.direction !== "in" && m.author && m.author.name) {
      node.insertBefore(el("span", "kith-author", m.author.name), node.firstChild);
    }
    (m.attachments || []).forEach(function (a) {
      var url = safeUrl(a.url);
      if (!url) return;
      var link = el("a", "kith-attachment");
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      if (a.kind === "image") {
        var img = el("img");
        img.src = url;
        img.alt = a.name || t.image;
        link.appendChild(img);
      } else {
        link.textContent = a.name || url;
      }
      node.appendChild(link);
    });
    var buttons = (m.buttons || []).filter(function (b) { return b.label; });
    if (buttons.length) {
      var row = el("div", "kith-replies");
      buttons.forEach(function (b) {
        var url = b.url && safeUrl(b.url);
        if (url) {
          var link = el("a", "kith-reply", b.label);
          link.href = url;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          row.appendChild(link);
          return;
        }
        var button = el("button", "kith-reply", b.label);
        button.type = "button";
        button.addEventListener("click", function () {
          Array.prototype.forEach.call(row.querySelectorAll("button"), function (x) {
            x.disabled = true;
          });
          send(b.label, b.payload || null);
        });
        row.appendChild(button);
      });
      node.appendChild(row);
    }
    var time = stamp(m.created_at);
    if (time) node.appendChild(time);
    return node;
  }

  /** Add or update a message; an echo of our own post replaces its pending bubble.
   *  History (`old`) goes above the messages still unsent, which are the newest. */
  function show(m, placeholder, old) {
    var waiting = placeholder || (m.client_id && state.pending[m.client_id]);
    if (m.client_id) {
      delete state.pending[m.client_id];
      if (m.direction === "in") unqueue(m.client_id);  // Kith has it: never send it again
    }
    var known = state.byId[m.id];
    if (known) {
      if (waiting && waiting !== known && waiting.parentNode) waiting.parentNode.removeChild(waiting);
      return;
    }
    var node = render(m);
    if (m.direction !== "in") typing(null);  // the reply is here: nobody is typing it any more
    if (!old) askWait();
    if (waiting && waiting.parentNode) {
      waiting.parentNode.replaceChild(node, waiting);
    } else {
      log.insertBefore(node, old ? log.querySelector(".kith-unsent") : null);
      announce(m, node);
      if (m.direction !== "in" && !state.open && !old) {
        state.unread += 1;
        badge.textContent = String(state.unread);
        badge.hidden = false;
      }
    }
    state.byId[m.id] = node;
    retireReplies();
    if (old || m.direction === "in") toEnd();  // the visitor's own words: always shown
    else followed();
  }

  /** Disable the quick replies of every message but the newest (see the top of this file).
   *  Focus on a button disabled here goes to the message box, not to nowhere. */
  function retireReplies() {
    var messages = log.querySelectorAll(".kith-msg");
    var newest = messages[messages.length - 1];
    var live = log.querySelectorAll(".kith-replies button:not(:disabled)");
    Array.prototype.forEach.call(live, function (button) {
      if (newest && newest.contains(button)) return;
      var focused = root.activeElement === button;
      button.disabled = true;
      if (focused) input.focus();
    });
  }

  function placeholder(item) {
    var node = bubble("in", "kith-pending kith-unsent", item.text);
    state.pending[item.client_id] = node;
    log.appendChild(node);
    retireReplies();
    toEnd();
    return node;
  }

  function send(text, payload) {
    if (!text.trim() && !payload) return;
    var item = { client_id: newId(), text: text, payload: payload };
    if (settings.name) item.name = String(settings.name);
    if (settings.email) item.email = String(settings.email);
    enqueue(item);  // kept before the first attempt: a reload or a lost connection keeps it
    placeholder(item);
    flush();
  }

  /** Shows or hides the "Reconnecting…" hint: offline, or Kith answered before and no longer
   *  does (`ok` false). A page Kith never answered (say, a site not allowed) gets the notice. */
  function reachable(ok) {
    if (ok === true) state.connected = true;
    var down = !state.online || (ok === false && state.connected);
    status.hidden = !down;
    status.textContent = down ? t.reconnecting : "";
  }

  function later(wait) {
    clearTimeout(state.timer);
    state.timer = setTimeout(flush, wait);
  }

  /** Send the unsent messages one at a time, oldest first, each with its own client_id. */
  function flush() {
    if (state.sending) return;
    clearTimeout(state.timer);
    var item = unsent()[0];
    if (!item) return;
    state.sending = true;
    var body = { client_id: item.client_id, text: item.text };
    ["payload", "name", "email"].forEach(function (k) { if (item[k]) body[k] = item[k]; });
    var language = settings.locale || navigator.language;  // a new visitor's profile locale
    if (/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(language || "")) body.locale = language;
    boot()
      .then(function () { return call("POST", "/messages", body); })
      .then(function (ans) {
        state.sending = false;
        state.attempts = 0;
        reachable(true);
        unqueue(item.client_id);
        show(ans.message, state.pending[item.client_id]);
        askWait();
        flush();
      }, function (err) {
        state.sending = false;
        var node = state.pending[item.client_id];
        if (err.status === 401 && state.attempts < 1) {  // the session was lost: start a new one
          state.attempts += 1;
          state.booted = null;
          state.token = null;
          later(0);
          return;
        }
        var transient = !err.status || err.status === 408 || err.status === 429 || err.status >= 500;
        if (!transient) {  // refused for good: off the queue; "Retry" puts it back
          unqueue(item.client_id);
          state.attempts = 0;
          failed(item, node);
          later(0);
          return;
        }
        if (!err.status) reachable(false);
        state.attempts += 1;
        if (state.attempts >= 3) failed(item, node);
        // Offline, the `online` event sends it at once; this timer covers an unreachable server.
        later(Math.min(1000 * Math.pow(2, state.attempts - 1), 30000));
      });
  }

  function failed(item, node) {
    if (!node || node.querySelector(".kith-retry")) return;
    node.classList.remove("kith-pending");
    node.classList.add("kith-failed");
    var retry = el("button", "kith-retry", t.retry);
    retry.type = "button";
    retry.addEventListener("click", function () {
      node.removeChild(retry);
      node.classList.remove("kith-failed");
      node.classList.add("kith-pending");
      if (!unsent().some(function (m) { return m.client_id === item.client_id; })) enqueue(item);
      state.attempts = 0;
      flush();  // same client_id: never stored twice
    });
    node.appendChild(retry);
  }

  launcher.addEventListener("click", function () { setOpen(!state.open); });
  close.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && state.open && !event.isComposing) {
      event.preventDefault();
      setOpen(false);
      launcher.focus();
    }
  });
  window.addEventListener("offline", function () {
    state.online = false;
    reachable(false);
  });
  window.addEventListener("online", function () {
    state.online = true;
    state.attempts = 0;
    reachable();
    if (state.booted) state.booted.then(stream, function () { /* boot reports it */ });
    else if (state.token || state.open) boot();
    flush();
  });
  emailForm.addEventListener("submit", leaveEmail);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text, null);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });

  function mount() {
    document.body.appendChild(host);
    reachable();
    var waiting = unsent();
    waiting.forEach(placeholder);  // typed before a reload or while offline: sent now
    if (state.token) boot();  // a returning visitor: pick up replies while the window is shut
    if (waiting.length) flush();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
