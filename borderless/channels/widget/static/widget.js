/*
 * Borderless web widget: one <script> tag on any shop page.
 *
 *   <script>
 *     window.BorderlessWidget = {
 *       rasaUrl: "https://bot.example.com",  // default: where this script was loaded from
 *       language: "de",                      // default: <html lang>, then the browser's
 *       colors: { primary: "#0b5cad", onPrimary: "#ffffff" },
 *       title: "Kundenservice",              // default: "Customer service", translated
 *       keepDays: 30,                        // forget a conversation left alone this long
 *     };
 *   </script>
 *   <script src="https://bot.example.com/webhooks/socketio/widget.js" defer></script>
 *
 * Talks to Rasa's socket.io channel (borderless.channels.widget.channel.WebWidgetInput) with
 * the small Engine.IO v4 / Socket.IO v5 client below, over a WebSocket: no build step, no CDN.
 * The session id and a copy of the conversation live in localStorage, so a reload (or the next
 * page of the shop) shows the conversation and goes on with it. The page language reaches the
 * bot as the message metadata `language` (a hint that sets the conversation language) with the
 * first message and whenever <html lang> changes; after that the customer's own words decide.
 * When the conversation ends (the bot's goodbye, an agent resolving it), the bot's message
 * carries custom {borderless: {ask_rating: true}}: the widget asks "How would you rate this
 * conversation?" with 1-5 stars, in the conversation's language, once per session, and sends
 * the rating as the socket event "csat" (acknowledged by the server).
 * Plain ES2017, no dependencies; public API: window.Borderless.{open, close, send, reset}.
 */
(function () {
  "use strict";

  if (window.Borderless && window.Borderless.loaded) return;

  var script = document.currentScript;
  var scriptUrl = script && script.src ? new URL(script.src, location.href) : null;
  var userConfig = window.BorderlessWidget || {};
  var config = {
    rasaUrl: userConfig.rasaUrl || (scriptUrl ? scriptUrl.origin : location.origin),
    socketPath: userConfig.socketPath || "/socket.io",
    language: userConfig.language || null,
    title: userConfig.title || null,
    colors: userConfig.colors || {},
    open: Boolean(userConfig.open),
    storageKey: userConfig.storageKey || "borderless-widget",
    userMessageEvent: userConfig.userMessageEvent || "user_uttered",
    botMessageEvent: userConfig.botMessageEvent || "bot_uttered",
    maxStoredMessages: userConfig.maxStoredMessages || 200,
    // A conversation left alone this long is forgotten by the browser (it holds order details).
    keepDays: userConfig.keepDays || 30,
  };
  config.rasaUrl = config.rasaUrl.replace(/\/+$/, "");
  var cssUrl = scriptUrl
    ? new URL("widget.css", scriptUrl).href
    : config.rasaUrl + "/webhooks/socketio/widget.css";

  // ---------------------------------------------------------------- texts of the widget itself
  var TEXTS = {
    en: { title: "Customer service", open: "Open chat", close: "Close chat",
      placeholder: "Type your message…", send: "Send", typing: "Typing…",
      offline: "Connection lost. Reconnecting…", reset: "New conversation", label: "Message",
      log: "Conversation", you: "You", bot: "Assistant",
      intro: "Hello! Ask us about your order, shipping or returns.",
      rateQuestion: "How would you rate this conversation?",
      rateThanks: "Thank you for your feedback!",
      rateError: "Your rating could not be sent. Please try again.",
      stars: ["1 star: very poor", "2 stars: poor", "3 stars: okay", "4 stars: good",
        "5 stars: excellent"] },
    de: { title: "Kundenservice", open: "Chat öffnen", close: "Chat schließen",
      placeholder: "Ihre Nachricht…", send: "Senden", typing: "Schreibt…",
      offline: "Verbindung unterbrochen. Neuer Versuch…", reset: "Neues Gespräch",
      label: "Nachricht", log: "Gesprächsverlauf", you: "Sie", bot: "Assistent",
      intro: "Guten Tag! Fragen Sie uns gern zu Ihrer Bestellung, zum Versand oder zu Rücksendungen.",
      rateQuestion: "Wie bewerten Sie dieses Gespräch?",
      rateThanks: "Vielen Dank für Ihre Bewertung!",
      rateError: "Ihre Bewertung konnte nicht gesendet werden. Bitte versuchen Sie es erneut.",
      stars: ["1 Stern: sehr schlecht", "2 Sterne: schlecht", "3 Sterne: in Ordnung",
        "4 Sterne: gut", "5 Sterne: sehr gut"] },
    fr: { title: "Service client", open: "Ouvrir le chat", close: "Fermer le chat",
      placeholder: "Écrivez votre message…", send: "Envoyer", typing: "En train d’écrire…",
      offline: "Connexion perdue. Reconnexion…", reset: "Nouvelle conversation",
      label: "Message", log: "Conversation", you: "Vous", bot: "Assistant",
      intro: "Bonjour ! Posez-nous vos questions sur votre commande, la livraison ou les retours.",
      rateQuestion: "Comment évaluez-vous cette conversation ?",
      rateThanks: "Merci pour votre avis !",
      rateError: "Votre évaluation n’a pas pu être envoyée. Veuillez réessayer.",
      stars: ["1 étoile : très mauvaise", "2 étoiles : mauvaise", "3 étoiles : correcte",
        "4 étoiles : bonne", "5 étoiles : excellente"] },
    es: { title: "Atención al cliente", open: "Abrir el chat", close: "Cerrar el chat",
      placeholder: "Escriba su mensaje…", send: "Enviar", typing: "Escribiendo…",
      offline: "Se perdió la conexión. Reconectando…", reset: "Nueva conversación",
      label: "Mensaje", log: "Conversación", you: "Usted", bot: "Asistente",
      intro: "¡Hola! Consúltenos sobre su pedido, el envío o las devoluciones.",
      rateQuestion: "¿Cómo valoraría esta conversación?",
      rateThanks: "¡Gracias por su valoración!",
      rateError: "No se ha podido enviar su valoración. Inténtelo de nuevo.",
      stars: ["1 estrella: muy mala", "2 estrellas: mala", "3 estrellas: aceptable",
        "4 estrellas: buena", "5 estrellas: excelente"] },
    it: { title: "Servizio clienti", open: "Apri la chat", close: "Chiudi la chat",
      placeholder: "Scriva il suo messaggio…", send: "Invia", typing: "Sta scrivendo…",
      offline: "Connessione persa. Riconnessione in corso…", reset: "Nuova conversazione",
      label: "Messaggio", log: "Conversazione", you: "Lei", bot: "Assistente",
      intro: "Buongiorno! Ci chieda pure del suo ordine, della spedizione o dei resi.",
      rateQuestion: "Come valuterebbe questa conversazione?",
      rateThanks: "Grazie per la sua valutazione!",
      rateError: "Non è stato possibile inviare la sua valutazione. La preghiamo di riprovare.",
      stars: ["1 stella: pessima", "2 stelle: scarsa", "3 stelle: discreta", "4 stelle: buona",
        "5 stelle: ottima"] },
    pt: { title: "Atendimento ao cliente", open: "Abrir o chat", close: "Fechar o chat",
      placeholder: "Escreva sua mensagem…", send: "Enviar", typing: "Digitando…",
      offline: "Conexão perdida. Reconectando…", reset: "Nova conversa",
      label: "Mensagem", log: "Conversa", you: "Você", bot: "Assistente",
      intro: "Olá! Pergunte-nos sobre o seu pedido, o envio ou as devoluções.",
      rateQuestion: "Como você avalia esta conversa?",
      rateThanks: "Obrigado pela sua avaliação!",
      rateError: "Não foi possível enviar sua avaliação. Por favor, tente novamente.",
      stars: ["1 estrela: muito ruim", "2 estrelas: ruim", "3 estrelas: razoável",
        "4 estrelas: boa", "5 estrelas: excelente"] },
    ja: { title: "カスタマーサービス", open: "チャットを開く", close: "チャットを閉じる",
      placeholder: "メッセージを入力してください…", send: "送信", typing: "入力中…",
      offline: "接続が切れました。再接続しています…", reset: "新しい会話",
      label: "メッセージ", log: "会話", you: "お客様", bot: "アシスタント",
      intro: "こんにちは。ご注文、配送、返品について、お気軽にお問い合わせください。",
      rateQuestion: "今回のチャットの対応はいかがでしたか？",
      rateThanks: "ご評価いただき、ありがとうございます。",
      rateError: "評価を送信できませんでした。もう一度お試しください。",
      stars: ["星1つ：とても不満", "星2つ：不満", "星3つ：普通", "星4つ：満足",
        "星5つ：とても満足"] },
    zh: { title: "客户服务", open: "打开聊天", close: "关闭聊天",
      placeholder: "请输入您的消息…", send: "发送", typing: "正在输入…",
      offline: "连接已断开，正在重新连接…", reset: "新对话",
      label: "消息", log: "对话记录", you: "您", bot: "助手",
      intro: "您好！欢迎咨询订单、配送或退货相关问题。",
      rateQuestion: "您对本次对话的满意度如何？",
      rateThanks: "感谢您的评价！",
      rateError: "您的评价未能发送，请重试。",
      stars: ["1 星：非常不满意", "2 星：不满意", "3 星：一般", "4 星：满意", "5 星：非常满意"] },
    ar: { title: "خدمة العملاء", open: "فتح المحادثة", close: "إغلاق المحادثة",
      placeholder: "يُرجى كتابة رسالتك…", send: "إرسال", typing: "جارٍ الكتابة…",
      offline: "انقطع الاتصال. جارٍ إعادة الاتصال…", reset: "محادثة جديدة",
      label: "الرسالة", log: "سجل المحادثة", you: "أنت", bot: "المساعد",
      intro: "مرحبًا بكم! يسعدنا الرد على استفساراتكم حول الطلب أو الشحن أو الإرجاع.",
      rateQuestion: "كيف تُقيّم هذه المحادثة؟",
      rateThanks: "شكرًا لك على تقييمك!",
      rateError: "تعذّر إرسال تقييمك. يُرجى المحاولة مرة أخرى.",
      stars: ["نجمة واحدة: سيئة جدًا", "نجمتان: سيئة", "ثلاث نجوم: مقبولة", "أربع نجوم: جيدة",
        "خمس نجوم: ممتازة"] },
  };
  var RTL = { ar: true, he: true, fa: true, ur: true };

  function primaryLanguage(tag) {
    var primary = String(tag || "").trim().toLowerCase().split(/[-_.@]/)[0];
    return /^[a-z]{2,3}$/.test(primary) ? primary : null;
  }

  function pageLanguage() {
    return (
      primaryLanguage(config.language) ||
      primaryLanguage(document.documentElement.getAttribute("lang")) ||
      primaryLanguage(navigator.language) ||
      "en"
    );
  }

  // ------------------------------------------- Engine.IO v4 / Socket.IO v5 over a WebSocket
  // Just what a chat needs: connect to the default namespace, emit and receive events, answer
  // pings, notice a dead link, reconnect with backoff. Packet format: engine.io type digit
  // ("0" open, "2" ping, "3" pong, "4" message), then for messages the socket.io type digit
  // ("0" connect, "1" disconnect, "2" event, "3" ack, "4" connect error), for an event that
  // wants an answer its ack id, and a JSON array; the server acks with "3", the id and its
  // answer.
  function MiniSocket(url, path) {
    this.url = url.replace(/^http/, "ws") + path.replace(/\/?$/, "/") + "?EIO=4&transport=websocket";
    this.handlers = {};
    this.connected = false;
    this.closedByUs = false;
    this.attempt = 0;
    this.ws = null;
    this.watchdog = null;
    this.acks = {};
    this.nextAck = 1;
  }
  MiniSocket.prototype.on = function (event, handler) {
    (this.handlers[event] = this.handlers[event] || []).push(handler);
  };
  MiniSocket.prototype.fire = function (event, arg) {
    (this.handlers[event] || []).forEach(function (handler) {
      try { handler(arg); } catch (error) { console.error("borderless widget:", error); }
    });
  };
  MiniSocket.prototype.open = function () {
    var self = this;
    self.closedByUs = false;
    var ws;
    try { ws = new WebSocket(self.url); } catch (error) { self.retry(); return; }
    self.ws = ws;
    ws.onmessage = function (event) { self.receive(String(event.data)); };
    ws.onclose = function () {
      var was = self.connected;
      self.connected = false;
      clearTimeout(self.watchdog);
      if (self.ws === ws) self.ws = null;
      self.failAcks();
      if (was) self.fire("disconnect");
      if (!self.closedByUs) self.retry();
    };
    ws.onerror = function () { /* onclose follows and retries */ };
  };
  MiniSocket.prototype.retry = function () {
    var self = this;
    var delay = Math.min(15000, 500 * Math.pow(2, self.attempt++)) * (0.75 + Math.random() / 2);
    setTimeout(function () { if (!self.closedByUs && !self.ws) self.open(); }, delay);
  };
  MiniSocket.prototype.alive = function (timeout) {
    // The server pings every pingInterval; no ping for interval + timeout means a dead link.
    var self = this;
    clearTimeout(self.watchdog);
    self.watchdog = setTimeout(function () { if (self.ws) self.ws.close(); }, timeout);
  };
  MiniSocket.prototype.receive = function (data) {
    var type = data.charAt(0);
    if (type === "0") {
      var handshake = JSON.parse(data.slice(1));
      this.deadAfter = (handshake.pingInterval || 25000) + (handshake.pingTimeout || 20000);
      this.alive(this.deadAfter);
      this.ws.send("40");
    } else if (type === "2") {
      this.alive(this.deadAfter);
      this.ws.send("3" + data.slice(1));
    } else if (type === "1") {
      this.ws.close();
    } else if (type === "4") {
      this.packet(data.slice(1));
    }
  };
  MiniSocket.prototype.packet = function (data) {
    var type = data.charAt(0);
    var ackId = (/^\d+/.exec(data.slice(1)) || [""])[0];
    var body = data.slice(1 + ackId.length);
    if (type === "3") {
      var answered = this.acks[ackId];
      delete this.acks[ackId];
      var answer;
      try { answer = JSON.parse(body); } catch (error) { answer = null; }
      if (answered) answered(Array.isArray(answer) ? answer[0] : null);
    } else if (type === "0") {
      this.connected = true;
      this.attempt = 0;
      this.fire("connect");
    } else if (type === "2") {
      var args;
      try { args = JSON.parse(body); } catch (error) { return; }
      if (Array.isArray(args) && typeof args[0] === "string") this.fire("event:" + args[0], args[1]);
    } else if (type === "1" || type === "4") {
      this.ws.close();
    }
  };
  MiniSocket.prototype.emit = function (event, data) {
    if (!this.connected || !this.ws) return false;
    this.ws.send("42" + JSON.stringify([event, data]));
    return true;
  };
  // Emit and call back with the server's answer, or with {ok: false, error: "offline"} when it
  // cannot be sent or no answer comes within `timeout` ms (the link dropped, the server hangs).
  MiniSocket.prototype.request = function (event, data, callback, timeout) {
    var self = this;
    if (!self.connected || !self.ws) {
      callback({ ok: false, error: "offline" });
      return;
    }
    var id = String(self.nextAck++);
    var timer = setTimeout(function () {
      if (self.acks[id]) { delete self.acks[id]; callback({ ok: false, error: "offline" }); }
    }, timeout || 10000);
    self.acks[id] = function (answer) { clearTimeout(timer); callback(answer); };
    self.ws.send("42" + id + JSON.stringify([event, data]));
  };
  MiniSocket.prototype.failAcks = function () {
    var pending = this.acks;
    this.acks = {};
    Object.keys(pending).forEach(function (id) { pending[id]({ ok: false, error: "offline" }); });
  };
  MiniSocket.prototype.close = function () {
    this.closedByUs = true;
    if (this.ws) this.ws.close();
  };

  // ------------------------------------------------------------------------------ state
  var storageKey = config.storageKey + ":" + config.rasaUrl;
  function loadState() {
    try {
      var saved = JSON.parse(localStorage.getItem(storageKey) || "null");
      var fresh = saved && Date.now() - (saved.savedAt || 0) < config.keepDays * 86400000;
      if (fresh && Array.isArray(saved.messages)) return saved;
    } catch (error) { /* storage off or garbage: start afresh */ }
    return { sessionId: null, hintSent: null, messages: [], open: false, rated: null };
  }
  var state = loadState();
  function saveState() {
    state.messages = state.messages.slice(-config.maxStoredMessages);
    state.savedAt = Date.now();
    try { localStorage.setItem(storageKey, JSON.stringify(state)); } catch (error) { /* full */ }
  }

  // ------------------------------------------------------------------------------ DOM
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes[name];
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  var URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
  function richText(text) {
    // Text nodes plus <a> for http(s) links: never innerHTML, so a reply cannot inject markup.
    var fragment = document.createDocumentFragment();
    var last = 0;
    String(text).replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, "");
      fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      fragment.appendChild(
        el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url })
      );
      last = offset + url.length;
      return match;
    });
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  var root = el("div", { class: "bl-widget", id: "borderless-widget" });
  var colorVars = { primary: "--bl-primary", onPrimary: "--bl-on-primary",
    background: "--bl-background", text: "--bl-text", userBubble: "--bl-user-bubble",
    botBubble: "--bl-bot-bubble" };
  Object.keys(colorVars).forEach(function (name) {
    if (config.colors[name]) root.style.setProperty(colorVars[name], String(config.colors[name]));
  });
  var launcher = el("button", { type: "button", class: "bl-launcher",
    "aria-controls": "bl-panel", "aria-expanded": "false" });
  // A speech bubble drawn inline: no icon font or emoji font needed.
  var launcherIcon = svgIcon("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z");
  launcherIcon.firstChild.setAttribute("fill", "currentColor");
  var launcherLabel = el("span", { class: "bl-sr" });
  launcher.appendChild(launcherIcon);
  launcher.appendChild(launcherLabel);
  var title = el("h2", { class: "bl-title", id: "bl-title" });
  var resetButton = el("button", { type: "button", class: "bl-reset" });
  var closeButton = el("button", { type: "button", class: "bl-close" });
  closeButton.appendChild(el("span", { "aria-hidden": "true", text: "×" }));
  var closeLabel = el("span", { class: "bl-sr" });
  closeButton.appendChild(closeLabel);
  var status = el("p", { class: "bl-status", role: "status", hidden: "" });
  var log = el("div", { class: "bl-log", role: "log", "aria-live": "polite",
    "aria-relevant": "additions", tabindex: "0" });
  var intro = el("p", { class: "bl-intro" });
  var typing = el("div", { class: "bl-typing", hidden: "" }, [
    el("span", { class: "bl-dot", "aria-hidden": "true" }),
    el("span", { class: "bl-dot", "aria-hidden": "true" }),
    el("span", { class: "bl-dot", "aria-hidden": "true" }),
  ]);
  var typingLabel = el("span", { class: "bl-sr" });
  typing.appendChild(typingLabel);
  var input = el("input", { type: "text", class: "bl-input", id: "bl-input",
    autocomplete: "off", maxlength: "2000", dir: "auto" });
  var inputLabel = el("label", { for: "bl-input", class: "bl-sr" });
  var sendButton = el("button", { type: "submit", class: "bl-send" });
  var form = el("form", { class: "bl-form" }, [inputLabel, input, sendButton]);
  var panel = el("section", { class: "bl-panel", id: "bl-panel", role: "dialog",
    "aria-labelledby": "bl-title", hidden: "" }, [
    el("header", { class: "bl-header" }, [title, resetButton, closeButton]),
    status, log, typing, form,
  ]);
  root.appendChild(panel);
  root.appendChild(launcher);

  var language = null;
  var texts = TEXTS.en;
  function applyLanguage() {
    language = pageLanguage();
    texts = TEXTS[language] || TEXTS.en;
    root.setAttribute("lang", TEXTS[language] ? language : "en");
    root.setAttribute("dir", RTL[language] ? "rtl" : "ltr");
    title.textContent = config.title || texts.title;
    launcherLabel.textContent = texts.open;
    launcher.setAttribute("title", texts.open);
    closeLabel.textContent = texts.close;
    closeButton.setAttribute("title", texts.close);
    resetButton.textContent = texts.reset;
    log.setAttribute("aria-label", texts.log);
    intro.textContent = texts.intro;
    typingLabel.textContent = texts.typing;
    inputLabel.textContent = texts.label;
    input.setAttribute("placeholder", texts.placeholder);
    sendButton.textContent = texts.send;
    if (status.textContent) status.textContent = texts.offline;
  }

  function renderMessage(message, index) {
    if (message.kind === "rating") return renderRating(message);
    var who = message.from === "user" ? texts.you : texts.bot;
    var bubble = el("div", { class: "bl-message bl-" + message.from, dir: "auto" });
    bubble.appendChild(el("span", { class: "bl-sr", text: who + ": " }));
    if (message.text) bubble.appendChild(richText(message.text));
    if (message.image) {
      bubble.appendChild(el("img", { src: message.image, alt: message.text || "", loading: "lazy" }));
    }
    var item = el("div", { class: "bl-item bl-item-" + message.from }, [bubble]);
    if (message.buttons && message.buttons.length) {
      var group = el("div", { class: "bl-buttons", role: "group" });
      message.buttons.forEach(function (button) {
        var choice = el("button", { type: "button", class: "bl-choice", dir: "auto",
          text: button.title });
        if (message.used) choice.disabled = true;
        choice.addEventListener("click", function () {
          state.messages[index].used = true;
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) {
            b.disabled = true;
          });
          send(button.payload, button.title);
        });
        group.appendChild(choice);
      });
      item.appendChild(group);
    }
    return item;
  }

  // ------------------------------------------------------------------------- rating (CSAT)
  // A card in the transcript, asked in the conversation's language (the server sends it with
  // the request), right to left where that language is. The five stars are buttons (Tab, or
  // the arrow keys within the group; Enter or Space rates) labelled "3 stars: okay" etc.
  // One rating per session: the server refuses a second, and the widget asks no more.
  var STAR_PATH = "M12 2.6l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.5l-5.9 3.1 1.2-6.5-4.8-4.6 6.6-.9z";
  var ratingIds = 0;
  // An inline 24x24 icon from one path: no icon font or emoji font needed.
  function svgIcon(d) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  function renderRating(message) {
    var lang = TEXTS[message.language] ? message.language : language;
    var words = TEXTS[lang] || TEXTS.en;
    var rtl = Boolean(RTL[lang]);
    var questionId = "bl-rating-" + ++ratingIds;
    var stars = el("div", { class: "bl-stars", role: "group", "aria-labelledby": questionId });
    var note = el("p", { class: "bl-rating-note", role: "status" });
    var card = el("div", { class: "bl-rating", lang: lang, dir: rtl ? "rtl" : "ltr" }, [
      el("p", { class: "bl-rating-question", id: questionId, text: words.rateQuestion }),
      stars, note,
    ]);
    var buttons = [];
    function show(upTo) {
      buttons.forEach(function (button, i) { button.classList.toggle("bl-star-on", i < upTo); });
    }
    function settle() {
      var done = typeof message.score === "number";
      buttons.forEach(function (button, i) {
        button.disabled = done;
        button.setAttribute("aria-pressed", done && i + 1 === message.score ? "true" : "false");
      });
      show(message.score || 0);
      note.textContent = done ? words.rateThanks : "";
    }
    for (var score = 1; score <= 5; score++) {
      var button = el("button", { type: "button", class: "bl-star",
        "aria-label": words.stars[score - 1], title: words.stars[score - 1] });
      button.appendChild(svgIcon(STAR_PATH));
      button.addEventListener("mouseenter", show.bind(null, score));
      button.addEventListener("focus", show.bind(null, score));
      button.addEventListener("click", rate.bind(null, score));
      buttons.push(button);
      stars.appendChild(button);
    }
    function rate(score) {
      if (typeof message.score === "number") return;
      if (!socket || !confirmed) {
        note.textContent = words.rateError;
        return;
      }
      buttons.forEach(function (button) { button.disabled = true; });
      note.textContent = "";
      socket.request("csat", { score: score }, function (answer) {
        if (answer && (answer.ok === true || answer.error === "already_rated")) {
          rated(message, score);
          settle();
          log.scrollTop = log.scrollHeight; // the thank-you made the card taller
          input.focus();
        } else {
          buttons.forEach(function (button) { button.disabled = false; });
          note.textContent = words.rateError;
        }
      });
    }
    stars.addEventListener("mouseleave", function () { show(message.score || 0); });
    stars.addEventListener("focusout", function () { show(message.score || 0); });
    stars.addEventListener("keydown", function (event) {
      var at = buttons.indexOf(document.activeElement);
      if (at < 0) return;
      var forward = rtl ? "ArrowLeft" : "ArrowRight";
      var back = rtl ? "ArrowRight" : "ArrowLeft";
      var to = { Home: 0, End: 4 }[event.key];
      if (event.key === forward || event.key === "ArrowUp") to = Math.min(4, at + 1);
      if (event.key === back || event.key === "ArrowDown") to = Math.max(0, at - 1);
      if (to === undefined) return;
      event.preventDefault();
      buttons[to].focus();
    });
    settle();
    return el("div", { class: "bl-item bl-item-bot" }, [card]);
  }

  function rated(message, score) {
    message.score = score;
    state.rated = score;
    // Another tab may have replaced `state` since the card was drawn: mark its card too.
    state.messages.forEach(function (m) { if (m.kind === "rating") m.score = score; });
    saveState();
  }

  function askRating(requestLanguage) {
    if (state.rated) return; // once per session
    // Only the latest request stays: an unanswered earlier card goes.
    state.messages = state.messages.filter(function (m) { return m.kind !== "rating"; });
    state.messages.push({ from: "bot", kind: "rating",
      language: typeof requestLanguage === "string" ? requestLanguage : null });
    saveState();
    renderAll();
    if (panel.hidden) launcher.classList.add("bl-unread");
  }

  function renderAll() {
    log.textContent = "";
    log.appendChild(intro);
    state.messages.forEach(function (message, index) {
      log.appendChild(renderMessage(message, index));
    });
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(message) {
    state.messages.push(message);
    saveState();
    log.appendChild(renderMessage(message, state.messages.length - 1));
    log.scrollTop = log.scrollHeight;
    if (panel.hidden && message.from === "bot") launcher.classList.add("bl-unread");
  }

  var typingTimer = null;
  function showTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    // Never spin for ever: a turn that sends nothing (e.g. while an agent holds the chat).
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, 12000);
    log.scrollTop = log.scrollHeight;
  }

  // ------------------------------------------------------------------------------ socket
  var socket = null;
  var confirmed = false;
  var outbox = [];

  function connect() {
    if (socket) return;
    var current = new MiniSocket(config.rasaUrl, config.socketPath);
    socket = current;
    // Events of a socket replaced by reset() are ignored.
    function live() { return socket === current; }
    socket.on("connect", function () {
      if (!live()) return;
      confirmed = false;
      status.textContent = "";
      status.hidden = true;
      current.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("disconnect", function () {
      if (!live()) return;
      confirmed = false;
      status.textContent = texts.offline;
      status.hidden = false;
    });
    socket.on("event:session_confirm", function (sessionId) {
      if (!live()) return;
      var id = sessionId && typeof sessionId === "object" ? sessionId.session_id : sessionId;
      if (typeof id !== "string") return;
      if (state.sessionId && state.sessionId !== id) state.hintSent = null;
      state.sessionId = id;
      confirmed = true;
      saveState();
      while (outbox.length) emitMessage(outbox.shift());
    });
    socket.on("event:" + config.botMessageEvent, function (data) {
      if (!live() || !data || typeof data !== "object") return;
      var custom = data.custom && data.custom.borderless;
      if (custom && custom.ask_rating === true) {
        askRating(data.language);
        return;
      }
      var replies = data.quick_replies || data.buttons || [];
      var image = data.attachment && data.attachment.payload && data.attachment.payload.src;
      if (!data.text && !image) return;
      showTyping(false);
      addMessage({
        from: "bot",
        text: typeof data.text === "string" ? data.text : "",
        image: typeof image === "string" && /^https?:/.test(image) ? image : undefined,
        buttons: replies
          .filter(function (b) { return b && typeof b.title === "string"; })
          .map(function (b) { return { title: b.title, payload: String(b.payload || b.title) }; }),
      });
    });
    socket.open();
  }

  function emitMessage(text) {
    var data = { message: text, session_id: state.sessionId };
    if (state.hintSent !== language) {
      data.customData = { language: language };
    }
    if (socket.emit(config.userMessageEvent, data)) {
      state.hintSent = language;
      saveState();
    } else {
      outbox.push(text);
    }
  }

  function send(payload, shown) {
    var text = String(payload || "").trim();
    if (!text) return;
    addMessage({ from: "user", text: shown || text });
    showTyping(true);
    connect();
    if (confirmed) emitMessage(text);
    else outbox.push(text);
  }

  // ------------------------------------------------------------------------------ wiring
  function open(focus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.classList.remove("bl-unread");
    root.classList.add("bl-is-open");
    state.open = true;
    saveState();
    connect();
    log.scrollTop = log.scrollHeight;
    if (focus !== false) input.focus();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("bl-is-open");
    state.open = false;
    saveState();
    launcher.focus();
  }
  function reset() {
    state = { sessionId: null, hintSent: null, messages: [], open: !panel.hidden, rated: null };
    saveState();
    renderAll();
    confirmed = false;
    // A new socket: the old one is still in the old conversation's room.
    if (socket) {
      socket.close();
      socket = null;
      connect();
    }
    input.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) open(true); else close(); });
  closeButton.addEventListener("click", close);
  resetButton.addEventListener("click", reset);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });
  // A storefront language switcher that changes <html lang> changes the widget (and the hint).
  new MutationObserver(function () {
    var before = language;
    applyLanguage();
    if (before !== language) renderAll();
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  window.addEventListener("storage", function (event) {
    // Another tab of the same shop wrote to the conversation: show what it shows.
    if (event.key !== storageKey) return;
    state = loadState();
    renderAll();
  });

  function mount() {
    var stylesheet = el("link", { rel: "stylesheet", href: cssUrl });
    document.head.appendChild(stylesheet);
    applyLanguage();
    renderAll();
    document.body.appendChild(root);
    if (state.sessionId) connect(); // an ongoing conversation: an agent's reply may come in
    if (config.open || state.open) open(false); // restored: do not steal the page's focus
  }

  window.Borderless = { loaded: true, open: open, close: close, send: send, reset: reset,
    state: function () { return JSON.parse(JSON.stringify(state)); } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
