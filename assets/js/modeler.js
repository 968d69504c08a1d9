// The analysts' modeller page: bpmn-js editor with bpmnlint, and the server's validation and deploy.
// Everything it needs (URLs, CSRF token, translated messages) comes from data attributes on #modeller,
// because the CSP forbids inline scripts.
import BpmnModeler from "bpmn-js/lib/Modeler";
import lintModule from "bpmn-js-bpmnlint";
import * as bpmnlintConfig from "./.bpmnlint-compiled.js";

const root = document.getElementById("modeller");
const problemList = document.getElementById("modeller-problems");
const statusLine = document.getElementById("modeller-status");
const text = (name) => root.dataset[name] || name;

const modeler = new BpmnModeler({
  container: "#modeller-canvas",
  linting: { bpmnlint: bpmnlintConfig, active: true },
  additionalModules: [lintModule],
});

function say(message, kind) {
  statusLine.textContent = message;
  statusLine.dataset.kind = kind || "info";
}

async function importXml(xml) {
  await modeler.importXML(xml);
  modeler.get("canvas").zoom("fit-viewport");
  root.dataset.ready = "true";
}

async function load() {
  const response = await fetch(root.dataset.xmlUrl, { credentials: "same-origin" });
  if (!response.ok) {
    say(text("msgLoadFailed"), "error");
    return;
  }
  await importXml(await response.text());
}

function selectElement(elementId) {
  const element = modeler.get("elementRegistry").get(elementId);
  if (!element) {
    say(text("msgNoElement") + " " + elementId, "error");
    return;
  }
  modeler.get("selection").select(element);
  modeler.get("canvas").scrollToElement(element);
}

function showProblems(problems) {
  problemList.replaceChildren();
  for (const problem of problems) {
    const item = document.createElement("li");
    if (problem.element_id) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary outline problem-element";
      button.dataset.elementId = problem.element_id;
      button.textContent = problem.element_id;
      button.addEventListener("click", () => selectElement(problem.element_id));
      item.append(button, " ");
    }
    item.append(problem.message);
    problemList.append(item);
  }
}

async function post(url, body, contentType) {
  const headers = { "X-CSRFToken": root.dataset.csrfToken, Accept: "application/json" };
  if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(url, { method: "POST", body, headers, credentials: "same-origin" });
  let payload = {};
  try {
    payload = await response.json();
  } catch {
    payload = { error: { message: text("msgServerError") } };
  }
  return { ok: response.ok, payload };
}

async function currentXml() {
  return (await modeler.saveXML({ format: true })).xml;
}

async function validate() {
  const { ok, payload } = await post(root.dataset.validateUrl, await currentXml(), "application/xml");
  if (!ok && payload.error) {
    showProblems([]);
    say(payload.error.message, "error");
    return;
  }
  showProblems(payload.problems);
  say(payload.valid ? text("msgValid") : text("msgInvalid"), payload.valid ? "ok" : "error");
}

async function deploy() {
  const { ok, payload } = await post(root.dataset.deployUrl, await currentXml(), "application/xml");
  if (!ok) {
    showProblems((payload.error && payload.error.details && payload.error.details.problems) || []);
    say(payload.error ? payload.error.message : text("msgServerError"), "error");
    return;
  }
  showProblems([]);
  say(payload.message, "ok");
  if (payload.deployed && payload.deployed.length) {
    const link = document.createElement("a");
    link.href = payload.deployed[0].url;
    link.textContent = text("msgOpenNew");
    statusLine.append(" ", link);
  }
}

async function upload(event) {
  const file = event.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const { ok, payload } = await post(root.dataset.uploadUrl, form, null);
  event.target.value = "";
  if (!ok) {
    showProblems((payload.error && payload.error.details && payload.error.details.problems) || []);
    say(payload.error ? payload.error.message : text("msgServerError"), "error");
    return;
  }
  await importXml(payload.xml);
  showProblems([]);
  say(text("msgUploaded"), "ok");
}

document.getElementById("modeller-validate").addEventListener("click", validate);
document.getElementById("modeller-deploy").addEventListener("click", deploy);
document.getElementById("modeller-upload").addEventListener("change", upload);
load();
// Tests and the console reach the editor here.
window.pis2Modeler = modeler;
