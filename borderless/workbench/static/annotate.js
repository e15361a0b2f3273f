// The annotation view. Entity spans are character offsets (Unicode code points, like Python's
// str) into the text shown, which is the masked text for trainers who may not see personal data;
// the server maps them back. Offsets come from a DOM Range over the text element, so they are
// right for Chinese and Japanese (no spaces) and for right-to-left Arabic alike.
(function () {
  const root = document.getElementById("annotate");
  if (!root) return;
  const message = JSON.parse(document.getElementById("message-data").textContent);
  const textEl = document.getElementById("text");
  const text = message.text;
  const intentEl = document.getElementById("intent");
  const languageEl = document.getElementById("language");
  const typeEl = document.getElementById("entity-type");
  const listEl = document.getElementById("entities");
  const statusEl = document.getElementById("status");
  const codePoints = (s) => Array.from(s).length;
  // Start from the trainer's earlier annotation, else from what the assistant extracted.
  let entities = (message.annotation ? message.annotation.entities : message.entities)
    .map((e) => ({ start: e.start, end: e.end, entity: e.entity }));

  function slice(start, end) { return Array.from(text).slice(start, end).join(""); }

  function render() {
    entities.sort((a, b) => a.start - b.start);
    textEl.textContent = "";
    let cursor = 0;
    for (const e of entities) {
      textEl.append(slice(cursor, e.start));
      const mark = document.createElement("mark");
      mark.textContent = slice(e.start, e.end);
      mark.title = e.entity;
      mark.dataset.entity = e.entity;
      textEl.append(mark);
      cursor = e.end;
    }
    textEl.append(slice(cursor, codePoints(text)));
    listEl.textContent = "";
    entities.forEach((e, i) => {
      const li = document.createElement("li");
      const value = document.createElement("bdi");
      value.textContent = slice(e.start, e.end);
      li.append(e.entity + ": ", value);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.title = "remove";
      remove.addEventListener("click", () => { entities.splice(i, 1); render(); });
      li.append(remove);
      listEl.append(li);
    });
  }

  // Offset of a DOM position inside textEl, in code points of the shown text.
  function offsetOf(node, offset) {
    const range = document.createRange();
    range.setStart(textEl, 0);
    range.setEnd(node, offset);
    return codePoints(range.toString());
  }

  function markSelection() {
    const selection = window.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) { say("Select some text first."); return; }
    const range = selection.getRangeAt(0);
    if (!textEl.contains(range.startContainer) || !textEl.contains(range.endContainer)) {
      say("Select inside the message."); return;
    }
    let start = offsetOf(range.startContainer, range.startOffset);
    let end = offsetOf(range.endContainer, range.endOffset);
    const chars = Array.from(text);
    while (start < end && /\s/.test(chars[start])) start++;   // trim spaces a double-click adds
    while (end > start && /\s/.test(chars[end - 1])) end--;
    if (start >= end) return;
    entities = entities.filter((e) => e.end <= start || e.start >= end);
    entities.push({ start, end, entity: typeEl.value });
    selection.removeAllRanges();
    render();
    say("Marked " + typeEl.value + ".");
  }

  function say(words) { statusEl.textContent = words; }

  async function save() {
    say("Saving…");
    const response = await fetch("/api/annotations", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify({
        event_id: Number(root.dataset.eventId), intent: intentEl.value,
        language: languageEl.value, entities, text,
      }),
    });
    if (response.ok) {
      say("Saved.");
      window.location = root.dataset.next;
    } else {
      const body = await response.json().catch(() => ({}));
      say("Not saved: " + (body.error || response.status));
    }
  }

  document.getElementById("save").addEventListener("click", save);
  document.getElementById("skip").addEventListener("click", () => { window.location = root.dataset.next; });
  document.addEventListener("keydown", (event) => {
    const inMenu = event.target.matches("select, input, textarea");
    if (event.key === "Escape") { event.target.blur(); return; }
    if (event.key === "Enter" && !event.target.matches("button")) { event.preventDefault(); save(); return; }
    if (inMenu || event.ctrlKey || event.metaKey || event.altKey) return;
    const actions = {
      i: () => intentEl.focus(), l: () => languageEl.focus(), t: () => typeEl.focus(),
      e: markSelection, x: () => { entities.pop(); render(); },
      n: () => { window.location = root.dataset.next; },
    };
    if (actions[event.key]) { event.preventDefault(); actions[event.key](); }
  });
  render();
})();
