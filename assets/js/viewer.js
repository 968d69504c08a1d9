// Read-only diagram with marked elements. Each [data-bpmn-viewer] element names the XML to show
// (data-xml-url), the markers to add (data-markers: JSON {"elementId": ["css-class", ...]}) and the
// badges to pin on elements (data-overlays: JSON {"elementId": "text"}).
// Data attributes rather than an inline script, because the CSP forbids inline scripts; the overlays'
// positions are set through the DOM (element.style), which the CSP allows.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { layoutProcess } from "bpmn-auto-layout";

// Models written by hand carry no diagram interchange (DI), and bpmn-js draws only what has a shape:
// those are laid out by bpmn-auto-layout first (its limits: no lanes, collapsed sub-processes).
async function importModel(viewer, xml) {
  const { rootElement: definitions } = await viewer.get("moddle").fromXML(xml, "bpmn:Definitions");
  await viewer.importXML((definitions.diagrams || []).length ? xml : await layoutProcess(xml));
}

// --- markers and badges ---------------------------------------------------------------------------------

function parsed(text) {
  try {
    return JSON.parse(text || "{}");
  } catch {
    return {};
  }
}

function mark(viewer, container) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const overlays = viewer.get("overlays");
  for (const [elementId, classes] of Object.entries(parsed(container.dataset.markers))) {
    if (!registry.get(elementId)) continue;
    for (const cls of [].concat(classes)) canvas.addMarker(elementId, cls);
  }
  for (const [elementId, text] of Object.entries(parsed(container.dataset.overlays))) {
    if (!registry.get(elementId)) continue;
    const badge = document.createElement("span");
    badge.className = "diagram-badge";
    badge.textContent = text;
    overlays.add(elementId, "badge", { position: { top: -10, right: 12 }, html: badge });
  }
}

async function show(container) {
  const viewer = new NavigatedViewer({ container });
  try {
    const response = await fetch(container.dataset.xmlUrl, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await importModel(viewer, await response.text());
  } catch {
    viewer.destroy();
    container.textContent = container.dataset.msgLoadFailed || "";
    container.dataset.failed = "true";
    return;
  }
  mark(viewer, container);
  viewer.get("canvas").zoom("fit-viewport", "auto");
  container.dataset.ready = "true";
}

for (const container of document.querySelectorAll("[data-bpmn-viewer]")) {
  show(container);
}
