// The form editor page: while the analyst types, the server checks both texts and draws the form as
// staff will see it (debounced). The preview HTML comes from our own server-side renderer, which
// escapes everything typed. URLs, the CSRF token and messages come from data attributes on
// #form-editor, because the CSP forbids inline scripts.
const root = document.getElementById("form-editor");
const DEBOUNCE_MS = 400;

if (root) {
  const schemaText = document.getElementById("form-json-schema");
  const uiText = document.getElementById("form-ui-schema");
  const problemList = document.getElementById("form-problems");
  const statusLine = document.getElementById("form-status");
  const preview = document.getElementById("form-preview");
  const text = (name) => root.dataset[name] || name;
  let timer = null;
  let latest = 0;

  const say = (message, kind) => {
    statusLine.textContent = message;
    statusLine.dataset.kind = kind;
  };

  const showProblems = (problems) => {
    problemList.replaceChildren();
    for (const problem of problems) {
      const item = document.createElement("li");
      item.dataset.rule = problem.rule || "";
      const where = document.createElement("code");
      where.textContent = problem.file + (problem.pointer ? " " + problem.pointer : "")
        + (problem.line ? ":" + problem.line : "");
      item.append(where, " ", problem.text || problem.message);
      problemList.append(item);
    }
  };

  const check = async () => {
    const request = ++latest;
    say(text("msgChecking"), "info");
    let payload;
    try {
      const response = await fetch(root.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "X-CSRFToken": root.dataset.csrfToken },
        body: JSON.stringify({ name: root.dataset.name, json_schema: schemaText.value, ui_schema: uiText.value }),
      });
      payload = await response.json();
      if (!response.ok) throw new Error(payload.error ? payload.error.message : response.statusText);
    } catch {
      if (request === latest) say(text("msgServerError"), "error");
      return;
    }
    if (request !== latest) return; // an older answer arriving after a newer one is stale
    showProblems(payload.problems);
    // Our server's own escaped rendering of the form (webapp.forms.render + tasks/_fields.html).
    preview.innerHTML = payload.html;
    say(payload.problems.length ? text("msgInvalid") : text("msgValid"), payload.problems.length ? "error" : "ok");
    root.dataset.checked = String(request);
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(check, DEBOUNCE_MS);
  };
  schemaText.addEventListener("input", schedule);
  uiText.addEventListener("input", schedule);
  root.dataset.ready = "true";
}
