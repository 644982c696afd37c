// Asks before a form marked data-confirm (Revoke) is sent. Everything works without it.
document.addEventListener("submit", (event) => {
  const question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// Import: a chosen .flopack file fills the text box the form sends (pasting works without it).
document.addEventListener("change", (event) => {
  const input = event.target;
  const target = input.getAttribute && input.getAttribute("data-fills");
  if (!target || !input.files || !input.files[0]) return;
  input.files[0].text().then((text) => {
    const box = document.getElementById(target);
    if (box) box.value = text;
  });
});

// Applications: a new app's page (the answer to its creation) takes the app's own address, so
// reloading it opens the app instead of creating another; its secret is not shown again.
const replaced = document.querySelector("[data-replace-url]");
if (replaced) history.replaceState(null, "", replaced.getAttribute("data-replace-url"));

// System Log: the live tail. The page names where new events are read from and after which
// sequence number; every few seconds the rows that arrived are put on top. Pause stops it;
// a hidden tab does not poll. Without script, "Show newer events" reloads the page.
const tail = document.querySelector("[data-live-tail]");
if (tail) {
  const rows = document.querySelector("[data-live-rows]");
  const status = tail.querySelector("[data-live-status]");
  const toggle = tail.querySelector("[data-live-toggle]");
  let cursor = tail.getAttribute("data-cursor");
  let paused = false;
  let timer = null;
  const say = (text) => { status.textContent = text; };
  const schedule = (ms) => { clearTimeout(timer); if (!paused) timer = setTimeout(poll, ms); };
  async function poll() {
    if (paused) return;
    if (document.hidden) return schedule(3000);
    let response;
    try {
      const address = `${tail.getAttribute("data-live-tail")}&after=${encodeURIComponent(cursor)}`;
      response = await fetch(address, { redirect: "manual", credentials: "same-origin" });
    } catch {
      say("Live tail: the server did not answer; trying again.");
      return schedule(10000);
    }
    const next = response.headers.get("x-steward-log-cursor");
    if (!response.ok || next === null) {
      paused = true;
      toggle.hidden = true;
      say("Live tail stopped: your session has ended. Reload the page to sign in again.");
      return;
    }
    const html = (await response.text()).trim();
    if (html) {
      const template = document.createElement("template");
      template.innerHTML = html;
      // Recent events come again until they are settled; each is shown once.
      const shown = new Set([...rows.querySelectorAll("tr[data-event]")].map((tr) => tr.dataset.event));
      const fresh = [...template.content.querySelectorAll("tr[data-event]")].filter((tr) => !shown.has(tr.dataset.event));
      if (fresh.length) {
        fresh.forEach((tr) => tr.classList.add("fresh"));
        rows.querySelectorAll("tr.empty").forEach((tr) => tr.remove());
        rows.prepend(...fresh);
        say(`${fresh.length} new event${fresh.length === 1 ? "" : "s"} at ${new Date().toLocaleTimeString()}.`);
      }
    }
    cursor = next;
    schedule(response.headers.get("x-steward-log-more") === "true" ? 0 : 3000);
  }
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    paused = !paused;
    toggle.textContent = paused ? "Resume live tail" : "Pause live tail";
    say(paused ? "Live tail paused." : "Live tail on: new events appear at the top.");
    if (!paused) schedule(0);
  });
  say("Live tail on: new events appear at the top.");
  schedule(3000);
}
