// The analysts' modeller page: bpmn-js editor with bpmnlint, and the server's validation and deploy.
// Everything it needs (URLs, CSRF token, translated messages) comes from data attributes on #modeller,
// because the CSP forbids inline scripts.
import BpmnModeler from "bpmn-js/lib/Modeler";
import { layoutProcess } from "bpmn-auto-layout";
import lintModule from "bpmn-js-bpmnlint";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import * as bpmnlintConfig from "./.bpmnlint-compiled.js";
import { pendingEditsModule } from "./properties/pending_edits.js";
import { pis2PropertiesModule, translateModule } from "./properties/provider.js";
import spiffworkflow from "./properties/spiffworkflow.json";

const root = document.getElementById("modeller");
const problemList = document.getElementById("modeller-problems");
const statusLine = document.getElementById("modeller-status");
const text = (name) => root.dataset[name] || name;

// The panel's groups that start open: the element's general data and our engine's settings.
const OPEN_GROUPS = Object.fromEntries(["general", "timer", "message", "pis2-role", "pis2-form",
  "pis2-instructions", "pis2-condition", "pis2-message", "pis2-service", "pis2-service-parameters",
  "pis2-decision"].map((id) => [id, { open: true }]));
const catalogue = JSON.parse(root.dataset.catalogue || "{}");
const panelText = JSON.parse(root.dataset.panelLabels || "{}");

// bpmn-js-properties-panel builds its two containers from HTML with style attributes, which our CSP
// (style-src 'self') refuses and reports. While the editor is built, drop those attributes from
// <div style="…"> snippets; modeller.css gives the containers the same layout.
function withoutInlineStyles(build) {
  const descriptor = Object.getOwnPropertyDescriptor(Element.prototype, "innerHTML");
  Object.defineProperty(Element.prototype, "innerHTML", {
    ...descriptor,
    set(html) {
      const clean = typeof html === "string" ? html.replace(/^<div style="[^"]*"/, "<div") : html;
      descriptor.set.call(this, clean);
    },
  });
  try {
    return build();
  } finally {
    Object.defineProperty(Element.prototype, "innerHTML", descriptor);
  }
}

const modeler = withoutInlineStyles(() => new BpmnModeler({
  container: "#modeller-canvas",
  linting: { bpmnlint: bpmnlintConfig, active: true },
  propertiesPanel: { parent: "#modeller-panel", layout: { groups: OPEN_GROUPS } },
  moddleExtensions: { spiffworkflow },
  additionalModules: [
    lintModule,
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    pis2PropertiesModule(catalogue, panelText.own || {}),
    translateModule(panelText.bpmn || {}),
    pendingEditsModule,
  ],
}));

function say(message, kind) {
  statusLine.textContent = message;
  statusLine.dataset.kind = kind || "info";
}

// Our models refer to process variables where BPMN expects element references (a multi-instance's
// loopDataInputRef names the list to iterate). bpmn-js cannot resolve them and would drop them on save:
// keep each as a reference to a stand-in that carries only the name, so it is written back unchanged.
function keepUnresolvedReferences(warnings) {
  const moddle = modeler.get("moddle");
  for (const warning of warnings || []) {
    const { element, property, value } = warning;
    if (!element || !property || !value || !/^unresolved reference/.test(warning.message)) continue;
    const descriptor = element.$descriptor.propertiesByName[property.replace(/^.*:/, "")]
      || element.$descriptor.propertiesByName[property];
    if (!descriptor || !descriptor.isReference) continue;
    const standIn = moddle.create("bpmn:Property", { id: value });
    if (descriptor.isMany) element.get(descriptor.name).push(standIn);
    else element.set(descriptor.name, standIn);
  }
}

// A model written by hand (or by a tool that keeps no layout) has no diagram: bpmn-auto-layout draws one,
// without lanes, and the analyst is told so before saving it as the model's layout.
async function withDiagram(xml) {
  const { rootElement: definitions } = await modeler.get("moddle").fromXML(xml, "bpmn:Definitions");
  if ((definitions.diagrams || []).length) return { xml, laidOut: false };
  return { xml: await layoutProcess(xml), laidOut: true };
}

async function importXml(source) {
  const { xml, laidOut } = await withDiagram(source);
  const { warnings } = await modeler.importXML(xml);
  keepUnresolvedReferences(warnings);
  modeler.get("canvas").zoom("fit-viewport");
  if (laidOut) say(text("msgLaidOut"), "info");
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
    item.append(problem.text || problem.message);
    problemList.append(item);
  }
}

async function post(url, body, contentType) {
  const headers = { "X-CSRFToken": root.dataset.csrfToken, Accept: "application/json" };
  if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(url, { method: "POST", body, headers, credentials: "same-origin" });
  let payload;
  try {
    payload = await response.json();
  } catch {
    payload = { error: { message: text("msgServerError") } };
  }
  return { ok: response.ok, payload };
}

async function currentXml() {
  modeler.get("debounceInput").flushAll();
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
